// The /auth endpoints and the /.well-known documents, in their own Fastify scope: every error here, a
// malformed body included, leaves as RFC 6749 JSON ({error, error_description}), never an OperationOutcome.
import type { FastifyInstance } from 'fastify';
import { externalTokens } from '../authn/external/external-tokens.ts';
import { authServices } from '../authn/services.ts';
import type { AppContext } from '../context.ts';
import { ClientAuthenticator } from './client-auth.ts';
import { discoveryHandler } from './discovery.ts';
import { oauthErrorHandler } from './errors.ts';
import { introspectHandler } from './introspect.ts';
import { jwksHandler } from './jwks.ts';
import { parseStrictForm, parseStrictJson, refuseQueryParameters } from './params.ts';
import { revokeHandler } from './revoke.ts';
import { tokenHandler } from './token.ts';
import { userinfoHandler } from './userinfo.ts';

export async function oauthRoutes(app: FastifyInstance, options: { ctx: AppContext }): Promise<void> {
  const { ctx } = options;
  const issuer = ctx.config.baseUrl;
  const services = authServices(ctx);
  const clients = new ClientAuthenticator(services.secrets, ctx.db, issuer, ctx.config.allowInsecureJwksUris);

  app.removeContentTypeParser('application/x-www-form-urlencoded');
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseStrictForm(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  // A string parser is chosen before the API's RegExp one, so here application/json is read strictly too.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseStrictJson(body as string, ctx.config.maxBodyDepth));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.setErrorHandler(oauthErrorHandler);

  // Each endpoint checks its caller itself (client authentication or a Bearer token), so none goes
  // through the API's authenticate and authorize hooks.
  const open = { config: { public: true } };
  const bodyOnly = { ...open, onRequest: refuseQueryParameters };
  app.post('/auth/token', bodyOnly, tokenHandler(services, clients, issuer, externalTokens(ctx)));
  app.post('/auth/introspect', bodyOnly, introspectHandler(services, clients, issuer));
  app.post('/auth/revoke', bodyOnly, revokeHandler(services, clients));
  app.get('/auth/userinfo', open, userinfoHandler(services));
  app.post('/auth/userinfo', open, userinfoHandler(services));
  app.get('/.well-known/jwks.json', open, jwksHandler(services.keys));
  app.get('/.well-known/openid-configuration', open, discoveryHandler(issuer, ctx.config.tokenSigningAlg));
  app.get('/.well-known/oauth-authorization-server', open, discoveryHandler(issuer, ctx.config.tokenSigningAlg));
}
