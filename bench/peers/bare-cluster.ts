// The control of bench/workers.ts: the least a clustered server can do per authorized read, with nothing of a real
// server around it. As Warden does, one worker is this process and more are forked (node:cluster); each compares a Basic secret
// in constant time, reads one row by its key from PostgreSQL and sends its JSON. What 2 workers cost per request
// beside 1 here is what the machine itself adds (cores shared with PostgreSQL and the load generator), not Warden.
//   PORT=... DATABASE_URL=... WORKERS=2 node --import tsx bench/peers/bare-cluster.ts
import cluster from 'node:cluster';
import { timingSafeEqual } from 'node:crypto';
import Fastify from 'fastify';
import postgres from 'postgres';

const workers = Number(process.env.WORKERS ?? 1);
const url = process.env.DATABASE_URL!;

if (cluster.isPrimary) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  await sql.unsafe('create table if not exists bare_resource (type text, id text, resource jsonb, primary key (type, id))');
  await sql.unsafe(`insert into bare_resource values ('Patient', 'p1', '{"resourceType":"Patient","id":"p1","active":true}') on conflict do nothing`);
  await sql.end();
}
if (cluster.isPrimary && workers > 1) {
  for (let i = 0; i < workers; i++) cluster.fork();
  let ready = 0;
  cluster.on('message', () => ++ready === workers && process.send?.('ready'));
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const expected = Buffer.from(`Basic ${Buffer.from('bench:bench-secret').toString('base64')}`);
  const sql = postgres(url, { max: 10, onnotice: () => {} }); // as each Warden worker
  const app = Fastify({ logger: false });
  app.get('/Patient/:id', async (request, reply) => {
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return reply.code(401).send({ error: 'unauthorized' });
    const [row] = await sql.unsafe('select resource::text as resource from bare_resource where type = $1 and id = $2', ['Patient', (request.params as { id: string }).id], { prepare: true });
    return reply.header('content-type', 'application/fhir+json').send(row.resource);
  });
  app.get('/health/ready', async () => ({ status: 'ok' }));
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.send?.('ready');
}
