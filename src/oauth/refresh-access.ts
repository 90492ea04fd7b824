// Whether a user's grant gets a refresh token, and what ends it (SMART App Launch 2.x §"Scopes for requesting
// a refresh token"):
//   offline_access   a refresh token that outlives the user's sign-in; it ends with its Session (revocation,
//                    DELETE /Session/{id}) or its own expiry
//   online_access    a refresh token usable while the user stays signed in: logging out, or the browser
//                    session running out, ends it
// Aidbox-style clients that ask for neither keep their per-grant setting: `auth.<grant>.refresh_token: true`
// gives a refresh token tied to the sign-in, as an online one is.
import type { Resource } from '../store/resource-store.ts';
import { clientModel } from '../iam/client-model.ts';

export type RefreshAccess = 'offline' | 'online';

export const REFRESH_SCOPES = ['offline_access', 'online_access'] as const;

/**
 * Whether the Client may hold refresh tokens of this grant at all: `auth.<grant>.refresh_token: true`, or the
 * `refresh_token` grant type with no `refresh_token: false` to say otherwise.
 */
export function mayRefresh(client: Resource, grant: string): boolean {
  return clientModel(client).refreshTokenSetting(grant) ?? clientModel(client).allowsGrant('refresh_token');
}

/** What refresh token, if any, a grant with these scopes gets; offline wins when both are asked for. */
export function refreshAccess(client: Resource, grant: string, scope: string | undefined): RefreshAccess | null {
  if (!mayRefresh(client, grant)) return null;
  const scopes = (scope ?? '').split(' ');
  if (scopes.includes('offline_access')) return 'offline';
  if (scopes.includes('online_access')) return 'online';
  return clientModel(client).refreshTokenSetting(grant) === true ? 'online' : null;
}

/**
 * The authorization request's scopes without refresh scopes that would not be honoured: the implicit flow never
 * issues refresh tokens (RFC 6749 §4.2.2), nor does a Client that may not refresh. SMART lets a server grant
 * fewer scopes than asked, and the token response's `scope` then says so.
 */
export function withoutUnusableRefreshScopes(client: Resource, responseType: 'code' | 'token', scopes: string[]): string[] {
  if (responseType === 'code' && mayRefresh(client, 'authorization_code')) return scopes;
  return scopes.filter((scope) => !(REFRESH_SCOPES as readonly string[]).includes(scope));
}
