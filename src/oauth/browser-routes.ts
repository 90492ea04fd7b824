// The browser endpoints: /auth/authorize, /auth/login, /auth/logout, sign-in through an IdentityProvider and the pages' stylesheet. They are public
// routes (no API credentials); who the user is comes from the browser session, read by each endpoint.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';
import { federationEndpoints } from '../federation/endpoints.ts';
import { authorizeEndpoint } from './authorize/endpoint.ts';
import { createBrowserFlows } from './browser-flows.ts';
import { STYLESHEET, STYLESHEET_PATH } from '../pages/layout.ts';
import { loginEndpoints } from './login.ts';
import { logoutEndpoints } from './logout.ts';
import { twoFactorEndpoints } from './two-factor.ts';

export async function browserRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const flows = await createBrowserFlows(ctx);
  const config = { public: true };
  const authorize = authorizeEndpoint(flows);
  const twoFactor = twoFactorEndpoints(flows);
  const login = loginEndpoints(flows, twoFactor);
  const logout = logoutEndpoints(flows);
  app.get('/auth/authorize', { config }, authorize);
  app.post('/auth/authorize', { config }, authorize);
  app.get('/auth/login', { config }, login.get);
  app.post('/auth/login', { config }, login.post);
  const federation = federationEndpoints(flows);
  app.get('/auth/redirect/:id', { config }, federation.redirect);
  app.get('/auth/callback/:id', { config }, federation.callback);
  app.get('/auth/login/two-factor', { config }, twoFactor.codeGet);
  app.post('/auth/login/two-factor', { config }, twoFactor.codePost);
  app.get('/auth/two-factor', { config }, twoFactor.settingsGet);
  app.post('/auth/two-factor', { config }, twoFactor.settingsPost);
  app.get('/auth/logout', { config }, logout.get);
  app.post('/auth/logout', { config }, logout.post);
  app.get(STYLESHEET_PATH, { config }, async (_request, reply) =>
    reply.headers({ 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff' }).send(STYLESHEET),
  );
}
