// The ceiling of bench/reads.ts: a bare Fastify that does only the work itself, on the same PostgreSQL database
// as the Warden it is measured beside (DATABASE_URL, required), with a pool of 10 connections as Warden's.
//   GET /health          one `select 1`, as Warden's /health
//   GET /:type/:id       an authorized read: a cached credential check (a Basic header compared in constant time,
//                        or a Bearer JWT this process verified before, looked up by the token and its expiry
//                        checked), one prepared `select` by id from Warden's own `resource` table, the stored JSON
//                        sent as it is with its ETag and Last-Modified
//   GET /Observation?patient=X&code=Y   a search: the same credential check, one prepared hand-written statement
//                        over Warden's search index (the page with its total, in id order, at most 100), and a
//                        searchset Bundle spliced from the stored JSON
//   POST /token          a JWT for the Bearer case (Basic client authentication), signed with jose
// Its backends name themselves `bare-reads`, so the bench can tell their CPU from Warden's.
import { timingSafeEqual } from 'node:crypto';
import Fastify from 'fastify';
import { SignJWT, generateKeyPair, jwtVerify, type JWTPayload } from 'jose';
import postgres from 'postgres';

const port = Number(process.env.PORT);
if (!process.env.DATABASE_URL) throw new Error('bare-reads needs DATABASE_URL (a database with Warden\'s resource table)');
const issuer = `http://127.0.0.1:${port}`;
const { privateKey, publicKey } = await generateKeyPair('RS256');
const expected = Buffer.from(`Basic ${Buffer.from('bench:bench-secret').toString('base64')}`);
const sql = postgres(process.env.DATABASE_URL, { max: 10, onnotice: () => {}, connection: { application_name: 'bare-reads' } });
/** Tokens already verified, by the token itself: a client sends the same one until it expires. */
const verified = new Map<string, JWTPayload>();

const basicAuthorized = (header: string) => {
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
};

async function bearerAuthorized(token: string): Promise<boolean> {
  const now = Math.floor(Date.now() / 1000);
  const known = verified.get(token);
  if (known) return known.exp! > now;
  try {
    const { payload } = await jwtVerify(token, publicKey, { issuer, audience: issuer, algorithms: ['RS256'] });
    verified.set(token, payload);
    return true;
  } catch {
    return false;
  }
}

async function authorized(header: string | undefined): Promise<boolean> {
  if (header === undefined) return false;
  if (header.startsWith('Bearer ')) return bearerAuthorized(header.slice(7));
  return basicAuthorized(header);
}

interface Row {
  resource: string;
  version_id: string;
  last_updated: Date;
  deleted: boolean;
}

const app = Fastify({ logger: false });
app.get('/health', async (_request, reply) => {
  await sql`select 1`;
  return reply.send({ status: 'pass' });
});
app.get<{ Params: { type: string; id: string } }>('/:type/:id', async (request, reply) => {
  if (!(await authorized(request.headers.authorization))) return reply.code(401).send({ error: 'unauthorized' });
  const [row] = await sql<Row[]>`select resource::text as resource, version_id, last_updated, deleted from resource
    where type = ${request.params.type} and id = ${request.params.id}`;
  if (!row || row.deleted) return reply.code(404).send({ error: 'not found' });
  return reply
    .header('etag', `W/"${row.version_id}"`)
    .header('last-modified', row.last_updated.toUTCString())
    .type('application/fhir+json; charset=utf-8')
    .send(row.resource);
});
app.get<{ Querystring: { patient?: string; code?: string } }>('/Observation', async (request, reply) => {
  if (!(await authorized(request.headers.authorization))) return reply.code(401).send({ error: 'unauthorized' });
  const { patient = '', code = '' } = request.query;
  const rows = await sql<{ id: string; resource: string; total: string }[]>`
    select r.id, r.resource::text as resource, count(*) over () as total from resource r
    where r.type = 'Observation' and not r.deleted
      and exists (select 1 from search_reference s where s.type = r.type and s.id = r.id and s.code = 'patient'
                  and s.target_type = 'Patient' and s.target_id = ${patient})
      and exists (select 1 from search_token t where t.type = r.type and t.id = r.id and t.code = 'code' and t.value = ${code})
    order by r.id limit 100`;
  const entries = rows.map((row) => `{"fullUrl":"${issuer}/Observation/${row.id}","resource":${row.resource},"search":{"mode":"match"}}`);
  return reply
    .type('application/fhir+json; charset=utf-8')
    .send(`{"resourceType":"Bundle","type":"searchset","total":${rows[0]?.total ?? 0},"entry":[${entries.join(',')}]}`);
});
app.post('/token', async (request, reply) => {
  if (!basicAuthorized(request.headers.authorization ?? '')) return reply.code(401).send({ error: 'invalid_client' });
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ client_id: 'bench' })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' })
    .setIssuer(issuer).setSubject('bench').setAudience(issuer).setIssuedAt(now).setExpirationTime(now + 3600)
    .sign(privateKey);
  return reply.header('cache-control', 'no-store').send({ access_token: token, token_type: 'bearer', expires_in: 3600 });
});
await app.listen({ port, host: '127.0.0.1' });
