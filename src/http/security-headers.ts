// Headers every answer carries unless its route set its own. Health data and credentials are never cached by a
// browser or a proxy unless a route says the answer is public (OWASP ASVS 5.0 V14.3.2, V14.2.2), and no browser
// guesses a type other than the one sent (V3.4.4: a JSON resource holding markup is never rendered as HTML).
import type { FastifyInstance } from 'fastify';

export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    if (!reply.hasHeader('x-content-type-options')) reply.header('x-content-type-options', 'nosniff');
  });
}
