// response_type: `code` (RFC 6749 §4.1) or `token` (implicit, §4.2), each only for a client allowed that grant.
import type { Resource } from '../../store/resource-store.ts';
import { toClient } from './authorize-error.ts';
import type { AuthorizeParams } from './params.ts';

export type ResponseType = 'code' | 'token';

/**
 * Which grant_types allow a response type. A client without grant_types at all is the seed's older shape (only
 * `redirect_uri`, as in Aidbox's "Users and Clients" sample): it may use the code flow, never the implicit one.
 */
export function allowsResponseType(client: Resource, responseType: ResponseType): boolean {
  const grants = client.grant_types;
  if (!Array.isArray(grants)) return responseType === 'code';
  return responseType === 'code' ? grants.includes('authorization_code') || grants.includes('code') : grants.includes('implicit');
}

export function checkResponseType(client: Resource, params: AuthorizeParams): ResponseType {
  const value = params.values.response_type;
  if (!value) throw toClient('invalid_request', 'response_type is missing');
  if (value !== 'code' && value !== 'token') {
    throw toClient('unsupported_response_type', `response_type "${value.slice(0, 40)}" is not supported: use code or token`);
  }
  if (!allowsResponseType(client, value)) {
    const grant = value === 'code' ? 'authorization_code' : 'implicit';
    throw toClient('unauthorized_client', `This client may not use response_type=${value}: its grant_types lack ${grant}`);
  }
  return value;
}
