// Builds the redirect that answers an authorization request. Every response, success or error, carries `iss`
// (RFC 9207) so a client talking to several servers can tell which one answered (mix-up attacks).
import type { ResponseMode } from './check-response-mode.ts';

export function authorizationResponse(
  redirectUri: string,
  mode: ResponseMode,
  issuer: string,
  values: Record<string, string | undefined>,
): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined) params.set(name, value);
  params.set('iss', issuer);
  const url = new URL(redirectUri);
  if (mode === 'fragment') {
    url.hash = params.toString();
  } else {
    // A query the client registered is kept (RFC 6749 §3.1.2); ours is added after it.
    for (const [name, value] of params) url.searchParams.append(name, value);
  }
  return url.toString();
}
