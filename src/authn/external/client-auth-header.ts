// Aidbox's `X-Client-Auth: Basic base64(client_id:client_secret)` beside a Bearer token from another identity
// provider: the token says who the user is, the header which of Warden's Clients is calling, so AccessPolicies
// linked to that Client apply. The Client authenticates exactly as with Basic auth (its secret, the `basic`
// grant, throttled); a wrong one is a 401, never a silent fallback. Warden's own tokens already name their
// Client, so the header is ignored beside them.
import { InvalidCredentials } from '../../errors.ts';
import type { BasicAuthenticator } from '../basic.ts';
import type { Identity } from '../identity.ts';

const EXTERNAL_METHODS = new Set<Identity['method']>(['external-jwt', 'external-opaque']);

export async function withClientAuthHeader(identity: Identity, header: string | string[] | undefined, basic: BasicAuthenticator, address: string): Promise<Identity> {
  if (header === undefined || !EXTERNAL_METHODS.has(identity.method)) return identity;
  const value = Array.isArray(header) ? header.join(',') : header;
  const [scheme, credentials = ''] = value.trim().split(/\s+/, 2);
  if (!/^basic$/i.test(scheme) || Array.isArray(header)) throw new InvalidCredentials('X-Client-Auth must be one "Basic base64(client_id:client_secret)" value', 'Basic');
  const { client } = await basic.authenticate(credentials, address);
  return { ...identity, client };
}
