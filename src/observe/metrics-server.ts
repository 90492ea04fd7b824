// GET /metrics on a port of its own (WARDEN_METRICS_PORT): no authentication, so bind it where only the
// scraper reaches (WARDEN_METRICS_HOST, 127.0.0.1 by default). Opened by the one process that sees every
// worker's metrics: the supervisor, or the server when it runs alone.
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { METRICS_CONTENT_TYPE, metricsText } from './metrics.ts';

export async function serveMetrics(port: number, host: string): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Only GET /metrics is served on this port.\n');
      return;
    }
    metricsText().then(
      (text) => response.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store' }).end(text),
      () => response.writeHead(503, { 'content-type': 'text/plain' }).end('The metrics could not be collected.\n'),
    );
  });
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}
