// The floor of an audit trail (bench/audit.ts): a bare Fastify that answers GET /read with a small JSON document
// and, with BARE_AUDIT=true, records each read as one small row (who, which patient, when), queued and INSERTed in
// batches of up to 200 off the request path, as Warden's trail does, into the same PostgreSQL (DATABASE_URL).
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import postgres from 'postgres';

const port = Number(process.env.PORT);
const auditing = process.env.BARE_AUDIT === 'true';
const sql = postgres(process.env.DATABASE_URL!, { max: 10, onnotice: () => {} });
await sql.unsafe('create table if not exists audit_row (id uuid primary key, recorded timestamptz not null, client_id text not null, patient_id text not null)');

const queue: { id: string; recorded: string }[] = [];
let writing = false;

async function writeAll(): Promise<void> {
  writing = true;
  while (queue.length > 0) {
    const batch = queue.splice(0, 200);
    await sql.unsafe(
      `insert into audit_row (id, recorded, client_id, patient_id)
       select id, recorded, 'bench', 'p1' from unnest($1::uuid[], $2::timestamptz[]) as r(id, recorded)`,
      [batch.map((row) => row.id), batch.map((row) => row.recorded)] as never[],
      { prepare: true },
    );
  }
  writing = false;
}

const app = Fastify({ logger: false });
app.get('/health', async () => ({ status: 'ok' }));
app.get('/read', async (request, reply) => {
  if (request.headers.authorization !== 'Bearer bench') return reply.code(401).send({ error: 'unauthorized' });
  if (auditing) {
    queue.push({ id: randomUUID(), recorded: new Date().toISOString() });
    if (!writing) void writeAll();
  }
  return reply.send({ resourceType: 'Patient', id: 'p1', active: true });
});
await app.listen({ port, host: '127.0.0.1' });
