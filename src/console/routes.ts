// GET /console/*: the admin console, a single-page app built by Vite into dist/console (`npm run build:console`).
// Every console route is public: the page itself holds no data; it logs in through /auth/authorize and calls the
// REST API with a Bearer token, which the authenticate and authorize steps check like any other caller's.
import { existsSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { CONSOLE_BUILD_DIR } from '../build-output.ts';
import type { AppContext } from '../context.ts';
import { CONSOLE_CLIENT_ID, consoleRedirectUri } from './console-client.ts';

/**
 * Only our own bundle runs and only our own origin is called. No inline script or style is needed, so none is
 * allowed; the page may not be framed (clickjacking), and no referrer leaves it (the callback URL holds a code).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-opener-policy', 'same-origin');
}

export async function consoleRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const { baseUrl } = ctx.config;
  const built = existsSync(`${CONSOLE_BUILD_DIR}index.html`);

  await app.register(async (scope) => {
    // Our own cache-control headers below, not the plugin's default.
    await scope.register(fastifyStatic, { root: CONSOLE_BUILD_DIR, serve: false, index: false, cacheControl: false });
    const open = { config: { public: true } };

    const sendIndex = (reply: FastifyReply) => {
      if (!built) {
        return secure(reply).code(503).type('text/plain; charset=utf-8')
          .send('The console is not built. Run `npm run build:console` (npm start and npm test do it), then restart.');
      }
      // The shell is tiny and names hashed bundles: never cache it, so a new build is picked up at once.
      return secure(reply).header('cache-control', 'no-store').sendFile('index.html');
    };

    scope.get('/console', open, (_request, reply) => reply.redirect('/console/', 302));
    scope.get('/console/', open, (_request, reply) => sendIndex(reply));

    // What the page needs to log in; derived from WARDEN_BASE_URL so the redirect URI matches the Client's.
    scope.get('/console/config.json', open, (_request, reply) =>
      secure(reply).header('cache-control', 'no-store').send({
        clientId: CONSOLE_CLIENT_ID,
        redirectUri: consoleRedirectUri(baseUrl),
        authorizationEndpoint: `${baseUrl}/auth/authorize`,
        tokenEndpoint: `${baseUrl}/auth/token`,
        logoutEndpoint: `${baseUrl}/auth/logout`,
        baseUrl,
      }),
    );

    scope.get<{ Params: { '*': string } }>('/console/*', open, (request, reply) => {
      const path = request.params['*'];
      // Files of the build have an extension; anything else is a page of the app, which the app routes itself.
      if (!/\.[a-z0-9]+$/i.test(path)) return sendIndex(reply);
      if (!built) return sendIndex(reply);
      const file = resolve(CONSOLE_BUILD_DIR, path);
      // A missing file is a plain 404 here: the app's own not-found route would ask for credentials.
      if (!file.startsWith(CONSOLE_BUILD_DIR.endsWith(sep) ? CONSOLE_BUILD_DIR : CONSOLE_BUILD_DIR + sep) || !existsSync(file)) {
        return secure(reply).code(404).type('text/plain; charset=utf-8').send('Not found');
      }
      const immutable = path.startsWith('assets/');
      secure(reply).header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      return reply.sendFile(path);
    });
  });
}
