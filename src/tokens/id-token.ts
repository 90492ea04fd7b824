// ID tokens (OpenID Connect Core §2, §3.1.3.6): who signed in, when, in which browser session, for which client.
// Signed with the same keys in the store as access tokens (RS256 unless WARDEN_TOKEN_SIGNING_ALG says ES256).
import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Clock } from './access-token.ts';
import { seconds } from './access-token.ts';
import type { KeyStore } from './keys.ts';

export interface IdTokenRequest {
  issuer: string;
  clientId: string;
  userId: string;
  /** When the user signed in (the browser session's start). */
  authTime: Date;
  /** The browser session's public id (OpenID Connect Front-Channel/Back-Channel Logout `sid`). */
  sid: string;
  nonce?: string;
  /** The access token issued with it, for at_hash. */
  accessToken: string;
  lifetimeSeconds: number;
  /** Further claims, such as SMART's fhirUser. */
  claims?: Record<string, unknown>;
}

/**
 * OIDC Core §3.1.3.6: at_hash is the left half of the hash of the access token's ASCII octets, base64url, with
 * the hash of the signing algorithm (SHA-256 for RS256 and ES256).
 */
export function atHash(accessToken: string): string {
  const digest = createHash('sha256').update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

export async function signIdToken(keys: KeyStore, clock: Clock, request: IdTokenRequest): Promise<string> {
  const key = keys.current();
  const iat = seconds(clock);
  return new SignJWT({
    ...request.claims,
    auth_time: Math.floor(request.authTime.getTime() / 1000),
    sid: request.sid,
    at_hash: atHash(request.accessToken),
    azp: request.clientId,
    ...(request.nonce !== undefined && { nonce: request.nonce }),
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(request.issuer)
    .setSubject(request.userId)
    .setAudience(request.clientId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + request.lifetimeSeconds)
    .sign(key.privateKey);
}
