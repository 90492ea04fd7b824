// The floor for a search over HTTP (bench/search.ts's control): a bare Fastify that checks a Basic secret in
// constant time, runs the hand-written search SQL (prepared, a pool of 10 connections as Warden's) and sends the
// page as a searchset Bundle whose entries splice the stored JSON text, never parsed. No authorization, no audit
// trail, no paging links: what serving the search over HTTP costs on this machine at the least.
//   PORT=... DATABASE_URL=... BENCH_BASIC="Basic ..." node --import tsx bench/peers/bare-search.ts
import { timingSafeEqual } from 'node:crypto';
import Fastify from 'fastify';
import postgres from 'postgres';
import { HAND_WRITTEN } from './hand-written-search.ts';

const port = Number(process.env.PORT);
const expected = Buffer.from(process.env.BENCH_BASIC ?? '');
const sql = postgres(process.env.DATABASE_URL!, { max: 10, onnotice: () => {} });

const authorized = (header: string | undefined) => {
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
};

const app = Fastify({ logger: false });
app.get('/Observation', async (request, reply) => {
  if (!authorized(request.headers.authorization)) return reply.code(401).send({ error: 'unauthorized' });
  const { patient } = request.query as { patient?: string };
  const rows = await sql.unsafe<{ id: string; resource: string; total: string }[]>(HAND_WRITTEN, [patient ?? ''], { prepare: true });
  const entries = rows.map((row) => `{"fullUrl":"http://bench/Observation/${row.id}","resource":${row.resource},"search":{"mode":"match"}}`);
  return reply
    .type('application/fhir+json; charset=utf-8')
    .send(`{"resourceType":"Bundle","type":"searchset","total":${rows[0]?.total ?? 0},"entry":[${entries.join(',')}]}`);
});
app.get('/health', async () => ({ status: 'ok' }));
await app.listen({ port, host: '127.0.0.1' });
