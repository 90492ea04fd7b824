// Builds the HTTP app: the request pipeline in order, and the routes. Nothing else lives here.
//   parse (content-type parsers) → authenticate (onRequest) → authorize (preHandler) → handle (routes) → store
import Fastify, { type FastifyInstance } from 'fastify';
import { authorizer } from './access/authorize.ts';
import { explainRoutes } from './access/explain.ts';
import { authenticator } from './authn/authenticate.ts';
import { authServices } from './authn/services.ts';
import { closeAuditScope, openAuditScope } from './audit/hooks.ts';
import type { AuditTrail } from './audit/trail.ts';
import type { TimeoutConfig } from './config.ts';
import type { AppContext } from './context.ts';
import { healthRoutes } from './health.ts';
import { consoleRoutes } from './console/routes.ts';
import { firstStartGate } from './console/first-admin.ts';
import { registerBodyParsers } from './http/body-parsers.ts';
import { registerCors } from './http/cors.ts';
import { registerSecurityHeaders } from './http/security-headers.ts';
import { frameworkErrorHandler, registerErrorHandlers } from './http/errors.ts';
import { loggerOptions, requestId } from './log.ts';
import { observeRoutes } from './observe/routes.ts';
import { browserRoutes } from './oauth/browser-routes.ts';
import { oauthRoutes } from './oauth/routes.ts';
import { resourceRoutes } from './resources/routes.ts';
import { launchRoutes } from './oauth/launch.ts';
import { smartConfigurationRoutes } from './oauth/smart-configuration.ts';

export const VERSION = '0.1.0';

const trustNearestHops = (hops: number) => (_address: string, hop: number) => hop < hops;

/**
 * Node checks the request and headers timeouts of open connections every so often (30 s by default), so a
 * shorter timeout would be enforced late; checking four times per timeout keeps it within a quarter of it.
 */
function checkingInterval(timeouts: TimeoutConfig): number {
  return Math.max(50, Math.min(30_000, Math.floor(timeouts.headersMs / 4)));
}

export async function buildServer(ctx: AppContext, options: { logger?: boolean; audit: AuditTrail }): Promise<FastifyInstance> {
  const { config } = ctx;
  const { timeouts } = config;
  const app = Fastify({
    logger: options.logger === false ? false : loggerOptions(config.logLevel),
    // A client that sends its request slowly, or sends nothing, holds a socket: bound both (slowloris, CWE-400).
    requestTimeout: timeouts.requestMs,
    connectionTimeout: timeouts.idleMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    http: { headersTimeout: timeouts.headersMs, requestTimeout: timeouts.requestMs, connectionsCheckingInterval: checkingInterval(timeouts) },
    bodyLimit: config.bodyLimit,
    genReqId: requestId,
    // A hop count as proxy-addr takes it: the N addresses nearest to us are proxies.
    trustProxy: typeof config.trustProxy === 'number' ? trustNearestHops(config.trustProxy) : config.trustProxy,
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: frameworkErrorHandler(config.bodyLimit),
  });
  // First of all hooks: with auditing on, everything after it, authentication included, runs in the request's
  // audit scope (with it off there is none, and no AsyncLocalStorage to pay for).
  if (options.audit.enabled) app.addHook('onRequest', openAuditScope(options.audit));
  app.decorateRequest('identity', null);
  app.decorateRequest('access', null);
  // Hooks with nothing to wait for take a callback: an async one costs each request a promise or two.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });

  registerCors(app, config.corsOrigins);
  registerSecurityHeaders(app, config.baseUrl);

  registerBodyParsers(app, config.maxBodyDepth);
  registerErrorHandlers(app, config.bodyLimit);
  app.addHook('onRequest', firstStartGate(ctx));
  app.addHook('onRequest', authenticator(ctx));
  app.addHook('preHandler', authorizer(ctx));
  app.addHook('onSend', closeAuditScope(options.audit));

  healthRoutes(app, ctx);
  observeRoutes(app, ctx);
  smartConfigurationRoutes(app, ctx);
  await app.register(launchRoutes, { ctx });
  explainRoutes(app, ctx);
  // The signing keys are loaded (or made, on a new database) before the server takes any request.
  await authServices(ctx).ready;
  await app.register(oauthRoutes, { ctx });
  await consoleRoutes(app, ctx);
  resourceRoutes(app, ctx, VERSION);
  await browserRoutes(app, ctx);
  return app;
}
