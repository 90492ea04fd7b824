// OAuth errors: one typed error whose `error` and `error_description` are the contract (RFC 6749 §5.2,
// RFC 6750 §3.1, RFC 7009 §2.2.1), rendered as JSON by the /auth error handler.

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'unsupported_token_type'
  | 'slow_down'
  | 'server_error';

export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status = 400,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
  }

  get body(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

export const CLIENT_CHALLENGE = 'Basic realm="warden", charset="UTF-8"';

export const invalidRequest = (description: string) => new OAuthError('invalid_request', description);
/**
 * RFC 6749 §5.2: a failed client authentication is 401; when the client used the Authorization header the
 * answer MUST carry a challenge for it (and only then: clients authenticating in the body get none).
 */
export const invalidClient = (description: string, usedAuthorizationHeader = false) =>
  new OAuthError('invalid_client', description, 401, usedAuthorizationHeader ? { 'www-authenticate': CLIENT_CHALLENGE } : {});
export const invalidGrant = (description: string) => new OAuthError('invalid_grant', description);
export const unauthorizedClient = (description: string) => new OAuthError('unauthorized_client', description);
export const unsupportedGrantType = (description: string) => new OAuthError('unsupported_grant_type', description);
export const invalidScope = (description: string) => new OAuthError('invalid_scope', description);
/** Too many failed authentications: 429 with Retry-After (RFC 6585 §4); `slow_down` is RFC 8628's name for it. */
export const throttled = (retryAfterSeconds: number) =>
  new OAuthError('slow_down', `Too many failed authentications; retry after ${retryAfterSeconds} seconds`, 429, {
    'retry-after': String(retryAfterSeconds),
  });
