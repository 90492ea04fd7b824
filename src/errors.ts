// Domain errors: what went wrong, said without HTTP (no status, no header). The store and the credential checks
// throw them; each surface renders them in its own language: src/http/errors.ts as a FHIR OperationOutcome,
// src/oauth/errors.ts as RFC 6749 JSON (every /auth route), the browser endpoints as a page.

/** Which credentials a refused caller should present (RFC 7235 §4.1: the challenge each surface sends). */
export type CredentialScheme = 'Basic' | 'Bearer' | 'Basic or Bearer';

/** The caller's credentials are refused: malformed, unknown, wrong, or of a scheme not taken here. */
export class InvalidCredentials extends Error {
  constructor(
    message: string,
    readonly scheme: CredentialScheme,
  ) {
    super(message);
  }
}

/** An access token that cannot be used: RFC 6750 §3.1 `invalid_token`. */
export class InvalidToken extends InvalidCredentials {
  constructor(message: string) {
    super(message, 'Bearer');
  }
}

/** Too many failed authentications from this identity or address: the caller may retry after `retryAfter` seconds. */
export class Throttled extends Error {
  constructor(readonly retryAfter: number) {
    super(`throttled for ${retryAfter} s`);
  }
}

/** Text the store cannot hold (PostgreSQL text has no NUL character): the caller's mistake, whatever path brought it. */
export class UnstorableText extends Error {}
