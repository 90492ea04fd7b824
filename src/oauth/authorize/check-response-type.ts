// response_type: `code` (RFC 6749 §4.1) or `token` (implicit, §4.2), each only for a client allowed that grant.
import { clientModel } from '../../iam/client-model.ts';
import type { Resource } from '../../store/resource-store.ts';
import { toClient } from './authorize-error.ts';
import type { AuthorizeParams } from './params.ts';

export type ResponseType = 'code' | 'token';

export function checkResponseType(client: Resource, params: AuthorizeParams): ResponseType {
  const value = params.values.response_type;
  if (!value) throw toClient('invalid_request', 'response_type is missing');
  if (value !== 'code' && value !== 'token') {
    throw toClient('unsupported_response_type', `response_type "${value.slice(0, 40)}" is not supported: use code or token`);
  }
  if (!clientModel(client).allowsResponseType(value)) {
    const grant = value === 'code' ? 'authorization_code' : 'implicit';
    throw toClient('unauthorized_client', `This client may not use response_type=${value}: its grant_types lack ${grant}`);
  }
  return value;
}
