// The errors of the authorization endpoint (RFC 6749 §4.1.2.1, §4.2.2.1). Until the client and its redirect URI
// are known to be genuine an error is shown on a page; after that it is sent back to the client.

export type AuthorizeErrorCode =
  | 'invalid_request'
  | 'unauthorized_client'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'server_error'
  | 'login_required'
  | 'consent_required'
  | 'interaction_required';

export class AuthorizeError extends Error {
  constructor(
    readonly error: AuthorizeErrorCode,
    readonly description: string,
    /** False when the redirect URI cannot be trusted: the error is then shown on Warden's error page. */
    readonly redirectable: boolean,
  ) {
    super(description);
  }
}

/** The client or redirect URI is unknown or wrong: never redirect, an attacker may have chosen where to. */
export const onPage = (error: AuthorizeErrorCode, description: string) => new AuthorizeError(error, description, false);
export const toClient = (error: AuthorizeErrorCode, description: string) => new AuthorizeError(error, description, true);
