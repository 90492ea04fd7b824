// The floor: a bare Fastify that only does the work itself, with nothing of a real server around it.
// POST /token: parse a form, compare a Basic secret in constant time, sign a JWT with jose; with DATABASE_URL,
// also INSERT one row per token into PostgreSQL and answer once it is committed (what storing each token's
// session durably costs at the least, with a pool of 10 connections as Warden's). With BENCH_GROUP_COMMIT=1 the
// rows of tokens asked for while a write is under way are INSERTed together in the next one, one statement and
// one commit per batch, as Warden writes its Sessions (src/tokens/session.ts): each token still waits for its
// own row's commit.
// GET /read: compare a Basic secret in constant time and send a small JSON document.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify from 'fastify';
import { SignJWT, generateKeyPair } from 'jose';
import postgres from 'postgres';

const port = Number(process.env.PORT);
const alg = (process.env.BENCH_ALG ?? 'RS256') as 'RS256' | 'ES256';
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = await generateKeyPair(alg);
const expected = Buffer.from(`Basic ${Buffer.from('bench:bench-secret').toString('base64')}`);
const sql = process.env.DATABASE_URL ? postgres(process.env.DATABASE_URL, { max: 10, onnotice: () => {} }) : undefined;
await sql?.unsafe('create table if not exists token_session (id uuid primary key, client_id text not null, expires_at timestamptz not null)');

const groupCommit = process.env.BENCH_GROUP_COMMIT === '1';

interface Row {
  sid: string;
  expiresAt: number;
  done: (error?: unknown) => void;
}
let pending: Row[] = [];
let flushing = false;

/** Writes the waiting rows in one statement while more arrive, and answers each once its batch is committed. */
async function flush(): Promise<void> {
  flushing = true;
  while (pending.length > 0) {
    const batch = pending;
    pending = [];
    try {
      await sql!.unsafe(
        'insert into token_session (id, client_id, expires_at) select id, $2, to_timestamp(exp) from unnest($1::uuid[], $3::bigint[]) as t (id, exp)',
        [batch.map((row) => row.sid), 'bench', batch.map((row) => row.expiresAt)],
        { prepare: true },
      );
      for (const row of batch) row.done();
    } catch (error) {
      for (const row of batch) row.done(error);
    }
  }
  flushing = false;
}

function storeRow(sid: string, expiresAt: number): Promise<unknown> | undefined {
  if (!sql) return undefined;
  if (!groupCommit) return sql.unsafe('insert into token_session (id, client_id, expires_at) values ($1, $2, to_timestamp($3))', [sid, 'bench', expiresAt], { prepare: true });
  return new Promise<void>((resolve, reject) => {
    pending.push({ sid, expiresAt, done: (error) => (error ? reject(error) : resolve()) });
    if (!flushing) void flush();
  });
}

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
  const sid = randomUUID();
  const signing = new SignJWT({ client_id: 'bench', jti: randomUUID(), sid })
    .setProtectedHeader({ alg, kid: 'bench', typ: 'at+jwt' })
    .setIssuer(issuer).setSubject('bench').setAudience(issuer).setIssuedAt(now).setExpirationTime(now + 3600)
    .sign(privateKey);
  const [accessToken] = await Promise.all([signing, storeRow(sid, now + 3600)]);
  return reply.header('cache-control', 'no-store').send({ access_token: accessToken, token_type: 'bearer', expires_in: 3600 });
});
app.get('/read', async (request, reply) => {
  if (!authorized(request.headers.authorization)) return reply.code(401).send({ error: 'unauthorized' });
  return reply.send({ resourceType: 'Patient', id: 'p1', active: true });
});
await app.listen({ port, host: '127.0.0.1' });
process.send?.('ready');
