// Structured JSON logs (pino). A log line never carries a credential: the Authorization and Cookie headers
// are not logged, query values that may hold a token, code or secret are masked, and a database error is
// logged without the values bound to its statement.
import { newResourceId } from './fhir/ids.ts';
import type { FastifyRequest } from 'fastify';
import { stdSerializers } from 'pino';

/**
 * Query values that grant something: tokens, codes, secrets, PKCE and OIDC binding values, and SMART `launch`
 * (an EHR launch id stands for a chosen patient and encounter until it is used).
 */
const SENSITIVE_QUERY = /token|secret|password|code|assertion|verifier|state|nonce|launch/i;
/** Query values that are themselves a URL with a query (the login page's return_to): masked inside. */
const NESTED_URL_QUERY = /^return_to$/i;

export function maskUrl(url: string): string {
  const question = url.indexOf('?');
  if (question < 0) return url;
  const params = new URLSearchParams(url.slice(question + 1));
  for (const key of new Set(params.keys())) {
    if (SENSITIVE_QUERY.test(key)) params.set(key, '***');
    else if (NESTED_URL_QUERY.test(key)) params.set(key, maskUrl(params.get(key)!));
  }
  return `${url.slice(0, question)}?${params}`;
}

/**
 * What a database error may show: where it happened, never what it was given. A PGlite error carries its
 * statement and bound values (`query`, `params`), a `postgres` one may (`parameters`, `args` in debug mode),
 * and PostgreSQL's own `detail` ("Failing row contains (...)", "Key (id)=(...)") and `where` quote the data.
 */
const DATABASE_ERROR_FIELDS = [
  'code', 'severity', 'routine', 'file', 'line', 'position', 'schema', 'table', 'column', 'dataType', 'constraint',
  'schema_name', 'table_name', 'column_name', 'constraint_name',
] as const;
/** Fields that may hold a statement or its values, dropped from any logged error. */
const BOUND_VALUE_FIELDS = ['query', 'params', 'parameters', 'args', 'types', 'queryOptions', 'detail', 'where', 'internalQuery'];

type ErrorLike = Error & Record<string, unknown>;

const isDatabaseError = (error: ErrorLike) =>
  typeof error.code === 'string' && /^[0-9A-Z]{5}$/.test(error.code) && typeof error.severity === 'string';

/** PostgreSQL quotes the offending value in some messages (`invalid input syntax for type integer: "..."`). */
const maskQuoted = (text: string) => text.replace(/"(?:[^"]|"")*"/g, '"***"');

type SerializedError = { type: string; message: string; stack: string; [key: string]: unknown };

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { type: typeof error, message: String(error), stack: '' };
  const err = error as ErrorLike;
  const serialized = stdSerializers.err(err) as SerializedError;
  if (isDatabaseError(err)) {
    const message = maskQuoted(err.message);
    const at = typeof err.stack === 'string' ? err.stack.indexOf('\n    at ') : -1;
    const frames = at >= 0 ? err.stack!.slice(at) : '';
    const kept: SerializedError = { type: serialized.type, message, stack: `${serialized.type}: ${message}${frames}` };
    for (const field of DATABASE_ERROR_FIELDS) if (err[field] !== undefined) kept[field] = err[field];
    if (typeof err.hint === 'string') kept.hint = maskQuoted(err.hint);
    if (err.cause !== undefined) kept.cause = serializeError(err.cause);
    return kept;
  }
  for (const field of BOUND_VALUE_FIELDS) delete serialized[field];
  if (err.cause !== undefined) serialized.cause = serializeError(err.cause);
  return serialized;
}

export function loggerOptions(level: string) {
  return {
    level,
    serializers: {
      err: serializeError,
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
  return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : newResourceId();
}
