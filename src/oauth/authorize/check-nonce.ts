// nonce (OpenID Connect Core §3.1.2.1): echoed in the ID token so the client can tie it to its own request.
import { toClient } from './authorize-error.ts';
import type { AuthorizeParams } from './params.ts';

const MAX_NONCE = 512;

export function checkNonce(params: AuthorizeParams): string | undefined {
  const nonce = params.values.nonce || undefined;
  if (nonce !== undefined && nonce.length > MAX_NONCE) throw toClient('invalid_request', `nonce is longer than ${MAX_NONCE} characters`);
  return nonce;
}
