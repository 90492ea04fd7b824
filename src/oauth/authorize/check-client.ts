// The client must exist and be active. An unknown client_id is shown on a page: there is no registered redirect
// URI to send the error to (RFC 6749 §4.1.2.1).
import { clientModel } from '../../iam/client-model.ts';
import type { Resource, ResourceStore } from '../../store/resource-store.ts';
import { onPage } from './authorize-error.ts';
import type { AuthorizeParams } from './params.ts';

export async function checkClient(resources: ResourceStore, params: AuthorizeParams): Promise<Resource> {
  const clientId = params.values.client_id;
  if (params.repeated.includes('client_id')) throw onPage('invalid_request', 'client_id is repeated');
  if (!clientId) throw onPage('invalid_request', 'client_id is missing');
  const current = clientId.length <= 256 ? await resources.read('Client', clientId) : null;
  const client = current && !current.deleted ? current.resource : null;
  if (!client || !clientModel(client).active) throw onPage('invalid_request', 'Unknown client_id: no such application is registered');
  return client;
}
