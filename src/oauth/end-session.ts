// OpenID Connect RP-Initiated Logout 1.0 at /auth/logout (the `end_session_endpoint`): which application asks,
// and where the browser may go afterwards. `post_logout_redirect_uri` must be one the Client registered in
// `post_logout_redirect_uris`, exactly (§3.1), and needs the Client to be known, from `id_token_hint` (an ID token
// Warden issued, verified by signature; it may have expired, §2) or `client_id` (which must then agree).
import { decodeProtectedHeader, jwtVerify } from 'jose';
import type { ResourceStore } from '../store/resource-store.ts';
import { SIGNING_ALGS, type KeyStore } from '../tokens/keys.ts';

export interface LogoutRequest {
  /** Where to send the browser after signing out, with `state`; absent: Warden's own "signed out" page. */
  redirectUri?: string;
  state?: string;
  /** The fields to carry through the confirmation form. */
  carried: Record<string, string>;
}

export class InvalidLogoutRequest extends Error {}

const LOGOUT_PARAMS = ['id_token_hint', 'post_logout_redirect_uri', 'client_id', 'state'];

async function hintedClientId(keys: KeyStore, issuer: string, hint: string): Promise<string> {
  try {
    const key = await keys.verificationKey(decodeProtectedHeader(hint).kid);
    if (!key) throw new Error('unknown key');
    // An expired ID token is still a fine hint of who asks (RP-Initiated Logout §2).
    const { payload } = await jwtVerify(hint, key.publicKey, { issuer, algorithms: SIGNING_ALGS, currentDate: new Date(0) });
    const audience = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    const clientId = typeof payload.azp === 'string' ? payload.azp : audience[0];
    if (typeof clientId !== 'string') throw new Error('no audience');
    return clientId;
  } catch {
    throw new InvalidLogoutRequest('The id_token_hint is not an ID token this server issued.');
  }
}

export async function checkLogoutRequest(resources: ResourceStore, keys: KeyStore, issuer: string, params: Record<string, unknown>): Promise<LogoutRequest> {
  const carried: Record<string, string> = {};
  for (const name of LOGOUT_PARAMS) {
    const value = params[name];
    if (value === undefined || value === '') continue;
    if (typeof value !== 'string' || value.length > 8192) throw new InvalidLogoutRequest(`The ${name} parameter is malformed.`);
    carried[name] = value;
  }
  const hinted = carried.id_token_hint ? await hintedClientId(keys, issuer, carried.id_token_hint) : undefined;
  if (hinted && carried.client_id && hinted !== carried.client_id) {
    throw new InvalidLogoutRequest('The client_id does not match the application the id_token_hint was issued to.');
  }
  const clientId = hinted ?? carried.client_id;
  const redirectUri = carried.post_logout_redirect_uri;
  if (!redirectUri) return { carried };
  if (!clientId) throw new InvalidLogoutRequest('A post_logout_redirect_uri needs an id_token_hint or client_id naming the application.');
  const current = /^[A-Za-z0-9\-.]{1,64}$/.test(clientId) ? await resources.read('Client', clientId) : null;
  const registered = current && !current.deleted ? current.resource.post_logout_redirect_uris : undefined;
  if (!Array.isArray(registered) || !registered.includes(redirectUri)) {
    throw new InvalidLogoutRequest('The post_logout_redirect_uri is not registered for this application.');
  }
  return { redirectUri, state: carried.state, carried };
}

/** The URL the browser is sent to after signing out: the registered URI with `state` added (§3). */
export function postLogoutRedirect(request: LogoutRequest): string | null {
  if (!request.redirectUri) return null;
  const url = new URL(request.redirectUri);
  if (request.state !== undefined) url.searchParams.set('state', request.state);
  return url.href;
}
