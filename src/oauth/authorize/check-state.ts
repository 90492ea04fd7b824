// state protects the client against CSRF on its redirect URI (RFC 6749 §10.12). RFC 9700 §2.1 accepts PKCE in its
// place for the code flow; the implicit flow has no PKCE, so there state is required. A code request with neither
// is refused: that client could not tell its own response from a forged one.
import { toClient } from './authorize-error.ts';
import type { AuthorizeParams } from './params.ts';
import type { ResponseType } from './check-response-type.ts';

const MAX_STATE = 2048;

export function checkState(responseType: ResponseType, params: AuthorizeParams): string | undefined {
  const state = params.values.state || undefined;
  if (state !== undefined && state.length > MAX_STATE) throw toClient('invalid_request', `state is longer than ${MAX_STATE} characters`);
  if (state === undefined && (responseType === 'token' || !params.values.code_challenge)) {
    throw toClient(
      'invalid_request',
      responseType === 'token' ? 'state is required with response_type=token' : 'state is required unless PKCE (code_challenge) is used',
    );
  }
  return state;
}
