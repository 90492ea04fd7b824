// What search costs over the index it reads: 100,000 Observations over 1,000 Patients on PostgreSQL, seeded in
// bulk (index rows from the server's own extraction, written by jsonb_to_recordset batches, not request by
// request). Measured in interleaved rounds, medians reported with the load average (the machine is shared):
//   API  `GET /Observation?patient=X&_sort=-date&_count=10` (a real server process, Basic auth, autocannon)
//   SQL  the same search hand-written over the same tables, through a `postgres` pool of the same size
// beside it `Patient?name=smi`, `Observation?patient=X&_include=Observation:subject` and a read, and the plan of each
// search as the server writes it (custom and generic plans: a prepared statement may switch to the latter),
// chains and _has too.
//   DATABASE_URL=postgres://... npx tsx bench/search.ts   (BENCH_SECONDS per case and round, default 3; BENCH_ROUNDS, default 5;
//   BENCH_CPU_PROF=<dir>: the server runs under `node --cpu-prof` and writes its profile there when it stops)
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { writeResourceIndexes } from '../src/iam/resource-indexes.ts';
import { extractIndexRows } from '../src/search/extract.ts';
import { searchFilters } from '../src/search/query.ts';
import { sortOrder } from '../src/search/sort.ts';
import type { Database } from '../src/store/database.ts';
import { migrate } from '../src/store/migrations.ts';
import { openDatabase } from '../src/store/open-database.ts';
import { ResourceStore, type Resource, type SearchQuery } from '../src/store/resource-store.ts';
import { spawnServer } from '../test/helpers/process.ts';
import { loop } from './store-api.ts';
import { basic, createTestDatabase, ROOT } from '../test/helpers/server.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = 10;
const PATIENTS = 1000;
const PER_PATIENT = 100;
const BATCH = 2000;
const FAMILIES = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez'];

const patientId = (n: number) => `bp-${n}`;

function* resources(): Generator<Resource> {
  for (let p = 0; p < PATIENTS; p++) {
    yield { resourceType: 'Patient', id: patientId(p), name: [{ family: `${FAMILIES[p % FAMILIES.length]}${p}`, given: ['Ada'] }], gender: p % 2 ? 'male' : 'female' };
    for (let o = 0; o < PER_PATIENT; o++) {
      const day = new Date(Date.UTC(2015, 0, 1) + ((p * 7919 + o * 104729) % 3650) * 86_400_000).toISOString().slice(0, 10);
      yield {
        resourceType: 'Observation', id: `bo-${p}-${o}`, status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: 'http://loinc.org', code: o % 2 ? '8867-4' : '8310-5' }] },
        subject: { reference: `Patient/${patientId(p)}` }, effectiveDateTime: day,
        valueQuantity: { value: 60 + (o % 40), unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      };
    }
  }
}

/** Writes a batch of first versions and their index rows, a few statements per batch. */
async function writeBatch(db: Database, batch: Resource[]) {
  const now = new Date().toISOString();
  const stamped = batch.map((resource) => ({ ...resource, meta: { versionId: '1', lastUpdated: now } }));
  const rows = { string: [] as unknown[], token: [] as unknown[], reference: [] as unknown[], date: [] as unknown[], quantity: [] as unknown[] };
  for (const resource of stamped) {
    const extracted = extractIndexRows(resource);
    for (const kind of Object.keys(rows) as (keyof typeof rows)[]) {
      for (const row of extracted[kind]) rows[kind].push({ type: resource.resourceType, id: resource.id, ...row });
    }
  }
  await db.transaction(async (tx) => {
    await tx.query(
      `with created as (insert into resource (type, id, version_id, last_updated, deleted, resource)
         select r->>'resourceType', r->>'id', 1, $2::timestamptz, false, r from jsonb_array_elements($1::text::jsonb) r returning *)
       insert into resource_history (type, id, version_id, last_updated, deleted, resource) select type, id, version_id, last_updated, deleted, resource from created`,
      [JSON.stringify(stamped), now],
    );
    await tx.query(`insert into search_string select * from jsonb_to_recordset($1::text::jsonb) as r(type text, id text, code text, value text, raw text)`, [JSON.stringify(rows.string)]);
    await tx.query(`insert into search_token select * from jsonb_to_recordset($1::text::jsonb) as r(type text, id text, code text, system text, value text)`, [JSON.stringify(rows.token)]);
    await tx.query(
      `insert into search_reference select * from jsonb_to_recordset($1::text::jsonb) as r(type text, id text, code text, target_type text, target_id text, url text)`,
      [JSON.stringify(rows.reference)],
    );
    await tx.query(
      `insert into search_date select type, id, code, low::timestamptz, high::timestamptz from jsonb_to_recordset($1::text::jsonb) as r(type text, id text, code text, low text, high text)`,
      [JSON.stringify(rows.date)],
    );
    await tx.query(
      `insert into search_quantity select type, id, code, system, unit_code, unit, low::numeric, high::numeric
       from jsonb_to_recordset($1::text::jsonb) as r(type text, id text, code text, system text, unit_code text, unit text, low text, high text)`,
      [JSON.stringify(rows.quantity)],
    );
  });
}

async function seed(db: Database): Promise<number> {
  const started = performance.now();
  let batch: Resource[] = [];
  for (const resource of resources()) {
    batch.push(resource);
    if (batch.length === BATCH) {
      await writeBatch(db, batch);
      batch = [];
    }
  }
  if (batch.length > 0) await writeBatch(db, batch);
  await db.exec('analyze');
  return (performance.now() - started) / 1000;
}

/**
 * The search the API runs, as hand-written SQL over the same tables (no generated filters, no visibility), in
 * the same two steps: the page's ids with the total, then their bodies.
 */
const HAND_WRITTEN = `
  with page as (
    select r.id, count(*) over () as total,
      row_number() over (order by (select max(d.high) from search_date d where d.type = r.type and d.id = r.id and d.code = 'date') desc nulls last, r.id) as position
    from resource r join search_reference s on s.type = r.type and s.id = r.id
    where r.type = 'Observation' and not r.deleted and s.code = 'patient' and s.target_type = 'Patient' and s.target_id = $1
    order by position limit 10)
  select r.resource::text as resource, page.total from page join resource r on r.type = 'Observation' and r.id = page.id order by page.position`;

/** The SQL the server writes for a search, captured from the store it uses. */
async function serverSql(db: Database, type: string, query: string): Promise<{ text: string; params: unknown[] }> {
  const params = new URLSearchParams(query);
  const sort = params.get('_sort');
  params.delete('_sort');
  params.delete('_count');
  params.delete('_include');
  const filters = searchFilters(type, [...params].map(([name, value]) => [name, [value]]), 'http://bench', []);
  let captured: { text: string; params: unknown[] } | undefined;
  // The page query is captured and answers nothing; the count that follows an empty page answers 0.
  const capturing: Database = { ...db, query: async (text, values = []) => (captured ? [{ n: 0 }] : ((captured = { text, params: values }), [])) as never };
  const search: SearchQuery = { filters, count: 11, offset: 0, sort: 'id', total: true, ...(sort && { order: sortOrder(type, sort) }) };
  await new ResourceStore(capturing, writeResourceIndexes).search(type, search);
  return captured!;
}

/** EXPLAIN of a parameterized statement: its custom plan, and the generic plan a prepared statement may use. */
async function plans(db: Database, text: string, params: unknown[]): Promise<{ custom: string; generic: string }> {
  const custom = (await db.query<{ 'QUERY PLAN': string }>(`explain ${text}`, params, { prepare: false })).map((row) => row['QUERY PLAN']).join('\n');
  const generic = await db.transaction(async (tx) => {
    await tx.query('set local plan_cache_mode = force_generic_plan');
    await tx.query(`prepare bench_plan as ${text}`);
    const literal = (value: unknown) => (typeof value === 'number' ? String(value) : `'${String(value).replace(/'/g, "''")}'`);
    const rows = await tx.query<{ 'QUERY PLAN': string }>(`explain execute bench_plan(${params.map(literal).join(', ')})`);
    await tx.query('deallocate bench_plan');
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  });
  return { custom, generic };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const randomPatient = () => patientId(Math.floor(Math.random() * PATIENTS));

function sqlRate(db: Database): Promise<number> {
  return loop(CONNECTIONS, SECONDS, async () => {
    const rows = await db.query<{ resource: string }>(HAND_WRITTEN, [randomPatient()]);
    if (rows.length !== 10) throw new Error(`hand-written SQL: ${rows.length} rows`);
    rows.forEach((row) => JSON.parse(row.resource));
  });
}

async function apiRate(url: string, path: (patient: string) => string): Promise<number> {
  const headers = { authorization: basic(ROOT.id, ROOT.secret) };
  const result = await autocannon({
    url, connections: CONNECTIONS, duration: SECONDS, headers,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: path(randomPatient()) }) }],
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`API ${path('X')}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result['2xx'] / result.duration;
}

const CASES = {
  'Observation?patient=X&_sort=-date&_count=10': (patient: string) => `/Observation?patient=${patient}&_sort=-date&_count=10`,
  'Patient?name=smi': () => '/Patient?name=smi&_count=10',
  'Observation?patient=X&_include=Observation:subject': (patient: string) => `/Observation?patient=${patient}&_include=Observation:subject&_count=10`,
  // For scale: what one request costs the server (HTTP, authentication, policy) on the same machine.
  'Observation/X (a read)': (patient: string) => `/Observation/${patient.replace('bp-', 'bo-')}-0`,
};

export async function run(): Promise<void> {
  if (!process.env.DATABASE_URL) {
    console.log('search: skipped, it needs PostgreSQL (DATABASE_URL)');
    return;
  }
  const database = await createTestDatabase();
  const db = await openDatabase({ databaseUrl: database.url, dataDir: 'unused' });
  const profileDir = process.env.BENCH_CPU_PROF;
  const server = await spawnServer(
    { DATABASE_URL: database.url, LOG_LEVEL: 'warn' },
    profileDir ? { cwd: process.cwd(), args: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--import', 'tsx', 'src/main.ts'] } : undefined,
  );
  try {
    await migrate(db);
    const seconds = await seed(db);
    console.log(`search: ${PATIENTS} Patients, ${PATIENTS * PER_PATIENT} Observations seeded in bulk in ${seconds.toFixed(0)}s; ${ROUNDS} interleaved rounds of ${SECONDS}s per case, ${CONNECTIONS} concurrent`);

    const searches = [
      ['Observation', 'patient=bp-7&_sort=-date&_count=10'], ['Patient', 'name=smi'], ['Observation', 'patient=bp-7'],
      ['Observation', 'patient.name=smith7&_count=10'], ['Patient', '_has:Observation:patient:code=8867-4&_count=10'],
    ] as const;
    for (const [name, query] of searches) {
      const { text, params } = await serverSql(db, name, query);
      const plan = await plans(db, text, params);
      const seqScan = (p: string) => /Seq Scan on resource\b/.test(p);
      console.log(`\nplan of ${name}?${query} (custom; generic): seq scan of resource: ${seqScan(plan.custom)}; ${seqScan(plan.generic)}\n${plan.custom}\n-- generic:\n${plan.generic}`);
    }
    const hand = await plans(db, HAND_WRITTEN, ['bp-7']);
    console.log(`\nplan of the hand-written SQL:\n${hand.custom}`);

    const figures: Record<string, number[]> = { sql: [], ...Object.fromEntries(Object.keys(CASES).map((name) => [name, []])) };
    const loads: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      loads.push(loadavg()[0]);
      figures.sql.push(await sqlRate(db));
      for (const [name, path] of Object.entries(CASES)) figures[name].push(await apiRate(server.url, path));
    }
    const sql = median(figures.sql);
    console.log(`\nmedian of ${ROUNDS} rounds; load average (1 min) over the rounds: ${loads.map((l) => l.toFixed(1)).join(', ')}`);
    console.log(`hand-written SQL                                       ${sql.toFixed(0).padStart(6)} /s`);
    for (const name of Object.keys(CASES)) {
      const rate = median(figures[name]);
      console.log(`API ${name.padEnd(51)}${rate.toFixed(0).padStart(6)} /s${name.includes('_sort') ? `   ÷ SQL = ${(rate / sql).toFixed(2)}` : ''}`);
    }
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
    await db.close();
    await database.drop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await run();
