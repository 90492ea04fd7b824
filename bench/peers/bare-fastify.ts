// The floor: a bare Fastify that only does the work itself, with nothing of a real server around it.
// POST /token: parse a form, compare a Basic secret in constant time, sign a JWT with jose.
// GET /read: compare a Basic secret in constant time and send a small JSON document.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify from 'fastify';
import { SignJWT, generateKeyPair } from 'jose';

const port = Number(process.env.PORT);
const alg = (process.env.BENCH_ALG ?? 'RS256') as 'RS256' | 'ES256';
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = await generateKeyPair(alg);
const expected = Buffer.from(`Basic ${Buffer.from('bench:bench-secret').toString('base64')}`);

const authorized = (header: string | undefined) => {
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
};

const app = Fastify({ logger: false });
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
  done(null, Object.fromEntries(new URLSearchParams(body as string)));
});
app.post('/token', async (request, reply) => {
  if (!authorized(request.headers.authorization)) return reply.code(401).send({ error: 'invalid_client' });
  const now = Math.floor(Date.now() / 1000);
  const accessToken = await new SignJWT({ client_id: 'bench', jti: randomUUID() })
    .setProtectedHeader({ alg, kid: 'bench', typ: 'at+jwt' })
    .setIssuer(issuer).setSubject('bench').setAudience(issuer).setIssuedAt(now).setExpirationTime(now + 3600)
    .sign(privateKey);
  return reply.header('cache-control', 'no-store').send({ access_token: accessToken, token_type: 'bearer', expires_in: 3600 });
});
app.get('/read', async (request, reply) => {
  if (!authorized(request.headers.authorization)) return reply.code(401).send({ error: 'unauthorized' });
  return reply.send({ resourceType: 'Patient', id: 'p1', active: true });
});
await app.listen({ port, host: '127.0.0.1' });
process.send?.('ready');
