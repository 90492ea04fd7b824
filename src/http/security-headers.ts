// Headers every answer carries unless its route set its own. Health data and credentials are never cached by
// a browser or a proxy unless a route says the answer is public (OWASP ASVS 5.0 V14.3.2, V14.2.2), no browser
// guesses a type other than the one sent (V3.4.4: a JSON resource holding markup is never rendered as HTML),
// and behind https, HSTS.
import type { FastifyInstance } from 'fastify';

/** Behind an https base URL, browsers are told to use nothing else for a year (V3.4.1, RFC 6797). */
const HSTS = 'max-age=31536000';

export function registerSecurityHeaders(app: FastifyInstance, baseUrl: string): void {
  const https = baseUrl.startsWith('https:');
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (https) reply.header('strict-transport-security', HSTS);
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    if (!reply.hasHeader('x-content-type-options')) reply.header('x-content-type-options', 'nosniff');
    done(null, payload);
  });
}
