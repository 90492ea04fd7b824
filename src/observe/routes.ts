// Request timing for every route, and GET /metrics on the main port, for authorized callers only (an AccessPolicy
// allowing GET /metrics, e.g. to the Client Prometheus logs in as), unless the metrics have a port of their own.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';
import { httpRequestSeconds, METRICS_CONTENT_TYPE, metricsText } from './metrics.ts';

export function observeRoutes(app: FastifyInstance, ctx: AppContext): void {
  // A callback, not an async hook: there is nothing to wait for, and a promise per request would be paid for it.
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, not the path: one series per route, whatever ids callers send.
    const route = request.routeOptions.url ?? 'unmatched';
    httpRequestSeconds.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
  if (ctx.config.metrics.port !== undefined) return;
  app.get('/metrics', async (_request, reply) => reply.type(METRICS_CONTENT_TYPE).header('cache-control', 'no-store').send(await metricsText()));
}
