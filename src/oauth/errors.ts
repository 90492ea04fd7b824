// OAuth errors: one typed error whose `error` and `error_description` are the contract (RFC 6749 §5.2,
// RFC 6750 §3.1, RFC 7009 §2.2.1), and the one renderer of every /auth route: any failure there, domain errors
// (src/errors.ts) and a malformed body included, leaves as this JSON, never an OperationOutcome.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidCredentials, Throttled, UnstorableText } from '../errors.ts';
import { FhirError } from '../fhir/outcome.ts';
import { challengeFor } from '../http/challenges.ts';
import { NO_STORE, sendTokenBody } from './reply.ts';

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

/** What any failure in an /auth route becomes; null for what must be a 500. */
export function asOAuthError(error: unknown): OAuthError | null {
  if (error instanceof OAuthError) return error;
  if (error instanceof Throttled) return throttled(error.retryAfter);
  // The API's own authentication, for the /auth routes that are not public (POST /auth/launch).
  if (error instanceof InvalidCredentials) return new OAuthError('invalid_client', error.message, 401, { 'www-authenticate': challengeFor(error) });
  if (error instanceof UnstorableText) return invalidRequest(error.message);
  // Authorization refused (403), or bad input: a body that does not parse, is too deep or too large, a field refused.
  if (error instanceof FhirError && error.status < 500) {
    const code: OAuthErrorCode = error.status === 401 ? 'invalid_client' : error.status === 403 ? 'unauthorized_client' : 'invalid_request';
    return new OAuthError(code, error.message, error.status, error.headers);
  }
  const status = (error as FastifyError | undefined)?.statusCode;
  if (status !== undefined && status >= 400 && status < 500) return new OAuthError('invalid_request', (error as Error).message, status);
  return null;
}

/** The error handler of every /auth scope; a 500 names the request id and nothing else. */
export function oauthErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const known = asOAuthError(error);
  if (known) return sendTokenBody(request, reply, known.status, known.body, known.headers);
  request.log.error({ err: error }, 'unhandled error');
  return reply.code(500).headers(NO_STORE).send({ error: 'server_error', error_description: `Internal server error (request id ${request.id})` });
}
