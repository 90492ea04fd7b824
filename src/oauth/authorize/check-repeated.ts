// RFC 6749 §3.1: request parameters MUST NOT be included more than once. (client_id and redirect_uri are checked
// before this, on the error page, since they decide where errors may go.)
import { toClient } from './authorize-error.ts';
import type { AuthorizeParams } from './params.ts';

export function checkRepeated(params: AuthorizeParams): void {
  if (params.repeated.length > 0) throw toClient('invalid_request', `${params.repeated[0]} is repeated`);
}
