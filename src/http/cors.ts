// CORS (Fetch standard; OWASP ASVS 5.0 V3.4.2): the API, token and discovery endpoints answer scripts of the
// configured origins. Warden's own browser pages answer no other origin's script at all: a login, consent or
// console page read cross-origin would hand its CSRF token and the user's name to any site.
import cors from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** The routes of pages a person's browser shows; matched on the route (or, for a preflight, the decoded path). */
const PAGE = /^\/(?:auth\/(?:authorize|login|logout|assets\/)|console(?:\/|$))/;

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

export async function registerCors(app: FastifyInstance, origins: string[] | true): Promise<void> {
  const api = {
    origin: origins,
    credentials: false,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Accept', 'If-Match', 'If-None-Match', 'Prefer', 'X-Request-Id'],
    exposedHeaders: ['ETag', 'Location', 'Last-Modified', 'WWW-Authenticate', 'X-Request-Id', 'Retry-After'],
    maxAge: 600,
  };
  await app.register(cors, {
    delegator: (request, callback) => callback(null, isPageRequest(request as FastifyRequest) ? { origin: false } : api),
  });
}
