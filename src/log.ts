// Structured JSON logs (pino). A log line never carries a credential: the Authorization and Cookie headers
// are not logged, and query values that may hold a token, code or secret are masked.
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

const SENSITIVE_QUERY = /token|secret|password|code|assertion|verifier|state|nonce/i;

export function maskUrl(url: string): string {
  const question = url.indexOf('?');
  if (question < 0) return url;
  const params = new URLSearchParams(url.slice(question + 1));
  for (const key of new Set(params.keys())) if (SENSITIVE_QUERY.test(key)) params.set(key, '***');
  return `${url.slice(0, question)}?${params}`;
}

export function loggerOptions(level: string) {
  return {
    level,
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: maskUrl(request.url),
        remoteAddress: request.ip,
      }),
    },
  };
}

/** Honours a caller's X-Request-Id when it is a plain token, so logs correlate across services. */
export function requestId(request: { headers: Record<string, string | string[] | undefined> }): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
}
