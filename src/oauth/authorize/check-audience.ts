// The SMART `aud` rule of /auth/authorize, checked before anything is asked of the user.
import { toClient } from './authorize-error.ts';
import type { AuthorizationRequest } from './validate.ts';

const sameUrl = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/**
 * SMART App Launch 2.x: `aud` names the FHIR server the app means to use; a token for this server must not be
 * issued to an app that was sent somewhere else (a phishing resource server), so a wrong `aud` is refused.
 */
export function checkAudience(authz: AuthorizationRequest, baseUrl: string): void {
  const aud = authz.params.aud;
  if (aud !== undefined && !sameUrl(aud, baseUrl)) {
    throw toClient('invalid_request', `aud "${aud.slice(0, 200)}" is not this FHIR server (${baseUrl})`);
  }
}
