// CORS (Fetch standard; OWASP ASVS 5.0 V3.4.2): the API, token and discovery endpoints answer scripts of the
// configured origins. Warden's own browser pages answer no other origin's script at all: a login, consent or
// console page read cross-origin would hand its CSRF token and the user's name to any site.
// The headers are worked out once, at start: a request only looks up its Origin (@fastify/cors, used before,
// made its options again for every request, a few per cent of a read's CPU).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The routes of pages a person's browser shows; matched on the route (or, for a preflight, the decoded path). */
const PAGE = /^\/(?:auth\/(?:authorize|login|logout|assets\/)|console(?:\/|$))/;

const METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
const ALLOWED_HEADERS = 'Authorization, Content-Type, Accept, If-Match, If-None-Match, Prefer, X-Request-Id';
const EXPOSED_HEADERS = 'ETag, Location, Last-Modified, WWW-Authenticate, X-Request-Id, Retry-After';
const MAX_AGE = '600';

function decodedPath(url: string): string {
  const path = url.split('?')[0];
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** A preflight matches the catch-all OPTIONS route, so the page it asks about is read from its URL. */
export function isPageRequest(request: FastifyRequest): boolean {
  const route = request.routeOptions.url;
  return PAGE.test(route && route !== '*' ? route : decodedPath(request.url));
}

/** The Access-Control-Allow-Origin an Origin gets: itself when configured (or any, with `true`), `*` when `*` is. */
function allowOriginOf(origins: string[] | true): (origin: string | undefined) => string | undefined {
  if (origins === true) return (origin) => origin || undefined;
  if (origins.includes('*')) return () => '*';
  const allowed = new Set(origins);
  return (origin) => (origin && allowed.has(origin) ? origin : undefined);
}

export function registerCors(app: FastifyInstance, origins: string[] | true): void {
  const allowOrigin = allowOriginOf(origins);
  app.addHook('onRequest', function cors(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
    // The answer depends on the Origin sent, whatever it is: a cache must not give one origin's answer to another.
    reply.header('vary', 'Origin');
    if (isPageRequest(request)) return done();
    const origin = allowOrigin(request.headers.origin);
    if (origin) reply.header('access-control-allow-origin', origin);
    reply.header('access-control-expose-headers', EXPOSED_HEADERS);
    if (request.method !== 'OPTIONS') return done();
    // A preflight is answered here, before authentication (a browser sends it without credentials).
    if (!request.headers.origin || !request.headers['access-control-request-method']) {
      reply.code(400).type('text/plain').send('Invalid Preflight Request');
      return;
    }
    reply
      .header('access-control-allow-methods', METHODS)
      .header('access-control-allow-headers', ALLOWED_HEADERS)
      .header('access-control-max-age', MAX_AGE)
      .code(204)
      .header('content-length', '0')
      .send();
  });
  // Preflights of the pages reach the router, which knows no OPTIONS route of theirs: 404.
  app.options('*', (_request, reply) => reply.callNotFound());
}
