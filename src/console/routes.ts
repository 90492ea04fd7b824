// GET /console/*: the admin console, a single-page app built by Vite into dist/console (`npm run build:console`).
// Every console route is public: the page itself holds no data; it logs in through /auth/authorize and calls the
// REST API with a Bearer token, which the authenticate and authorize steps check like any other caller's.
import { existsSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CONSOLE_BUILD_DIR } from '../build-output.ts';
import type { AppContext } from '../context.ts';
import { CONSOLE_CLIENT_ID, consoleRedirectUri } from './console-client.ts';
import { firstStartOf, isLoopbackRequest, setupRoutes, SETUP_PATH } from './first-admin.ts';

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

/**
 * The console logs in through WARDEN_BASE_URL: opened under another host name (an IP address, say, while the
 * setting says localhost), its login returns to a page of another origin and cannot complete. The page says so;
 * this says it in the log, once per host name seen (a few at most: the Host header is the caller's to choose).
 */
function baseUrlMismatchWarner(baseUrl: string, warn: (message: string) => void) {
  const expected = new URL(baseUrl).host.toLowerCase();
  const warned = new Set<string>();
  return (request: FastifyRequest) => {
    const host = (request.headers.host ?? '').toLowerCase();
    if (!host || host === expected || warned.has(host) || warned.size >= 8) return;
    warned.add(host);
    warn(
      `the console was opened at ${request.protocol}://${host}/console, but WARDEN_BASE_URL is ${baseUrl}: its login ` +
        `returns to ${baseUrl} and cannot complete there. Open ${baseUrl}/console, or set WARDEN_BASE_URL to the address people use`,
    );
  };
}

/** The Clients Warden makes at every start, each with why the console does not offer to delete or rotate it. */
function managedClients(ctx: AppContext): Record<string, string> {
  const managed: Record<string, string> = {
    [CONSOLE_CLIENT_ID]:
      'The console signs in with this client, and Warden makes it again at every start: it cannot be deleted here ' +
      '(that would lock everyone out of the console), and as a public client it has no secret to rotate.',
  };
  const root = ctx.config.rootClient;
  if (root) {
    managed[root.id] =
      'Warden makes this root client at every start from WARDEN_ROOT_CLIENT_ID and WARDEN_ROOT_CLIENT_SECRET: change ' +
      'its secret there and restart. A secret set here, or its deletion, would be undone at the next start.';
  }
  return managed;
}

export async function consoleRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const { baseUrl } = ctx.config;
  const warnOfOtherHost = baseUrlMismatchWarner(baseUrl, (message) => app.log.warn(message));
  const built = existsSync(`${CONSOLE_BUILD_DIR}index.html`);
  await setupRoutes(app, ctx);

  await app.register(async (scope) => {
    // Our own cache-control headers below, not the plugin's default.
    await scope.register(fastifyStatic, { root: CONSOLE_BUILD_DIR, serve: false, index: false, cacheControl: false });
    const open = { config: { public: true } };

    const sendIndex = (reply: FastifyReply) => {
      warnOfOtherHost(reply.request);
      if (!built) {
        return secure(reply).code(503).type('text/plain; charset=utf-8')
          .send('The console is not built. Run `npm run build:console` (npm start and npm test do it), then restart.');
      }
      // The shell is tiny and names hashed bundles: never cache it, so a new build is picked up at once.
      return secure(reply).header('cache-control', 'no-store').sendFile('index.html');
    };

    scope.get('/console', open, (_request, reply) => reply.redirect('/console/', 302));
    scope.get('/console/', open, async (request, reply) => {
      // A first start: the person opening the console on this machine creates its first administrator.
      if (isLoopbackRequest(request) && (await firstStartOf(ctx).awaitsAdmin())) return reply.redirect(SETUP_PATH, 303);
      return sendIndex(reply);
    });

    // What the page needs to log in; derived from WARDEN_BASE_URL so the redirect URI matches the Client's.
    scope.get('/console/config.json', open, (_request, reply) =>
      secure(reply).header('cache-control', 'no-store').send({
        clientId: CONSOLE_CLIENT_ID,
        redirectUri: consoleRedirectUri(baseUrl),
        authorizationEndpoint: `${baseUrl}/auth/authorize`,
        tokenEndpoint: `${baseUrl}/auth/token`,
        logoutEndpoint: `${baseUrl}/auth/logout`,
        baseUrl,
        managedClients: managedClients(ctx),
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
