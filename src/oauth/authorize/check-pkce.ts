// PKCE (RFC 7636). Only S256: `plain` sends the verifier's equivalent through the browser and protects nothing
// against an attacker who can read the authorization request (RFC 9700 §2.1.1). Public clients must use it, as
// must any client whose `auth.authorization_code.pkce` is true.
import { clientModel } from '../../iam/client-model.ts';
import type { Resource } from '../../store/resource-store.ts';
import { toClient } from './authorize-error.ts';
import type { AuthorizeParams } from './params.ts';
import type { ResponseType } from './check-response-type.ts';

/** RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters of the unreserved set. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export function checkPkce(client: Resource, responseType: ResponseType, params: AuthorizeParams): string | undefined {
  if (responseType !== 'code') return undefined;
  const challenge = params.values.code_challenge || undefined;
  const method = params.values.code_challenge_method || undefined;
  if (challenge === undefined) {
    if (method !== undefined) throw toClient('invalid_request', 'code_challenge_method was sent without code_challenge');
    if (clientModel(client).pkceRequired) {
      throw toClient('invalid_request', 'PKCE is required for this client: send code_challenge with code_challenge_method=S256');
    }
    return undefined;
  }
  // RFC 7636 §4.3 defaults a missing method to plain, which is refused too.
  if (method !== 'S256') {
    throw toClient('invalid_request', `code_challenge_method must be S256${method ? `, not "${method.slice(0, 20)}"` : ' (plain is not supported)'}`);
  }
  if (!S256_CHALLENGE.test(challenge)) throw toClient('invalid_request', 'code_challenge is not a base64url SHA-256 value (43 characters)');
  return challenge;
}
