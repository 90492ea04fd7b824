// RFC 6750 §2: a client sends its access token in one way only. Warden takes it only in the Authorization
// header (§2.1): a token in the query (§2.3) ends up in logs, browser history and Referer headers (RFC 9700
// §4.3.2, OWASP ASVS 5.0 V14.2.1), so `access_token` there (or, at userinfo, in the body) is refused with 400
// invalid_request (RFC 6750 §3.1), not silently ignored beside a header that works.
import type { FastifyRequest } from 'fastify';
import { bearerChallenge } from '../http/challenges.ts';

const has = (params: unknown, name: string) =>
  params !== null && typeof params === 'object' && Object.hasOwn(params as object, name);

/** Why the request's way of sending its token is refused, or null when it is fine. */
export function tokenMethodProblem(request: FastifyRequest, where: 'query' | 'query or body'): string | null {
  const elsewhere = has(request.query, 'access_token') || (where === 'query or body' && has(request.body, 'access_token'));
  if (!elsewhere) return null;
  return request.headers.authorization !== undefined
    ? 'The access token was sent in more than one way: send it only in the Authorization header (RFC 6750 §2)'
    : `Send the access token in the Authorization header, not in the ${where} (RFC 6750 §2.1)`;
}

export const invalidRequestChallenge = (message: string) => ({ 'www-authenticate': bearerChallenge('invalid_request', message) });
