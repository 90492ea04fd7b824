// What search costs over the index it reads: 100,000 Observations over 1,000 Patients on PostgreSQL, seeded in
// bulk (index rows from the server's own extraction, written by jsonb_to_recordset batches, not request by
// request). Measured in interleaved rounds (each in a new order), medians reported with the load average (the
// machine is shared), with the CPU each request cost: the server's process plus its PostgreSQL backends (for
// the SQL, this process's own CPU plus the backends), which a busy machine disturbs far less than throughput.
//   API   `GET /Observation?patient=X&_sort=-date&_count=10` (a real server process, Basic auth, autocannon)
//   SQL   the same search hand-written over the same tables (peers/hand-written-search.ts), through a `postgres`
//         pool of the same size
//   bare  the control: that SQL served by a bare Fastify with no authorization, audit or links (peers/bare-search.ts),
//         the most a server on this machine can serve of it over HTTP
// beside it `Patient?name=smi`, `Observation?patient=X&_include=Observation:subject` and a read, and the plan of each
// search as the server writes it (custom and generic plans: a prepared statement may switch to the latter),
// chains and _has too.
//   DATABASE_URL=postgres://... npx tsx bench/search.ts   (BENCH_SECONDS per case and round, default 3; BENCH_ROUNDS, default 5)
//   BENCH_BASE=/path/to/other/checkout   also runs that checkout's server on the same database, in the same rounds (A/B)
//   BENCH_AUDIT_OFF=1   also runs this checkout's server with WARDEN_AUDIT=false: the audit trail's share
//   BENCH_CPU_PROF=<dir>: the Warden servers run under `node --cpu-prof` and write their profiles there when they stop
//   BENCH_SERVER_NODE_ARGS="--max-semi-space-size=32"   node options for the Warden servers (npm start's)
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { writeResourceIndexes } from '../src/iam/resource-indexes.ts';
import { extractIndexRows } from '../src/search/extract.ts';
import { searchFilters } from '../src/search/query.ts';
import { sortOrder } from '../src/search/sort.ts';
import type { Database } from '../src/store/database.ts';
import { migrate } from '../src/store/migrations.ts';
import { openDatabase } from '../src/store/open-database.ts';
import { ResourceStore, type Resource, type SearchQuery } from '../src/store/resource-store.ts';
import { spawnServer, type ServerProcess } from '../test/helpers/process.ts';
import { backendPids, cpuSeconds } from './cpu.ts';
import { HAND_WRITTEN } from './peers/hand-written-search.ts';
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
const repo = fileURLToPath(new URL('../', import.meta.url));

/** A rate and what each operation cost in CPU (µs). */
interface Figure {
  rate: number;
  cpu: number;
}

/** CPU seconds of the database's backends and of `pids` while `work` runs; `own` adds this process's. */
async function withCpu(database: string, pids: number[], own: boolean, work: () => Promise<number>): Promise<{ rate: number; cpuSeconds: number }> {
  const all = [...pids, ...(await backendPids(database))];
  const [before, ownBefore] = [cpuSeconds(all), process.cpuUsage()];
  const rate = await work();
  const ownUsed = process.cpuUsage(ownBefore);
  const used = cpuSeconds(all) - before + (own ? (ownUsed.user + ownUsed.system) / 1e6 : 0);
  return { rate, cpuSeconds: used };
}

async function sqlFigure(db: Database, database: string): Promise<Figure> {
  const { rate, cpuSeconds: used } = await withCpu(database, [], true, () =>
    loop(CONNECTIONS, SECONDS, async () => {
      const rows = await db.query<{ resource: string }>(HAND_WRITTEN, [randomPatient()]);
      if (rows.length !== 10) throw new Error(`hand-written SQL: ${rows.length} rows`);
      rows.forEach((row) => JSON.parse(row.resource));
    }),
  );
  return { rate, cpu: (used * 1e6) / (rate * SECONDS) };
}

async function apiFigure(server: Target, database: string, path: (patient: string) => string): Promise<Figure> {
  const headers = { authorization: basic(ROOT.id, ROOT.secret) };
  let requests = 0;
  const { rate, cpuSeconds: used } = await withCpu(database, [server.process.child.pid!], false, async () => {
    const result = await autocannon({
      url: server.process.url, connections: CONNECTIONS, duration: SECONDS, headers,
      requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: path(randomPatient()) }) }],
    });
    if (result.non2xx > 0 || result.errors > 0) {
      throw new Error(`${server.name} ${path('X')}: ${result.non2xx} non-2xx (${JSON.stringify(result.statusCodeStats)}), ${result.errors} errors`);
    }
    requests = result['2xx'];
    return result['2xx'] / result.duration;
  });
  return { rate, cpu: (used * 1e6) / Math.max(1, requests) };
}

const SORTED = 'Observation?patient=X&_sort=-date&_count=10';
const CASES = {
  [SORTED]: (patient: string) => `/Observation?patient=${patient}&_sort=-date&_count=10`,
  'Patient?name=smi': () => '/Patient?name=smi&_count=10',
  'Observation?patient=X&_include=Observation:subject': (patient: string) => `/Observation?patient=${patient}&_include=Observation:subject&_count=10`,
  // For scale: what one request costs the server (HTTP, authentication, policy) on the same machine.
  'Observation/X (a read)': (patient: string) => `/Observation/${patient.replace('bp-', 'bo-')}-0`,
};

/** A server under measurement and the cases it answers. */
interface Target {
  name: string;
  process: ServerProcess;
  cases: Partial<typeof CASES>;
}

async function startTargets(databaseUrl: string): Promise<Target[]> {
  const profileDir = process.env.BENCH_CPU_PROF;
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const warden = async (name: string, cwd: string, env: Record<string, string> = {}): Promise<Target> => {
    const args = [...nodeArgs, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), '--import', 'tsx', 'src/main.ts'];
    const server = await spawnServer({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', ...env }, { cwd, args });
    if (profileDir) console.log(`${name}: pid ${server.child.pid} (its profile is CPU.*.${server.child.pid}.*.cpuprofile in ${profileDir})`);
    return { name, process: server, cases: CASES };
  };
  const targets = [await warden('this', repo)];
  if (process.env.BENCH_BASE) targets.push(await warden('base', process.env.BENCH_BASE));
  if (process.env.BENCH_AUDIT_OFF) targets.push(await warden('this, WARDEN_AUDIT=false', repo, { WARDEN_AUDIT: 'false' }));
  const bare = await spawnServer({ DATABASE_URL: databaseUrl, BENCH_BASIC: basic(ROOT.id, ROOT.secret) }, { cwd: repo, args: ['--import', 'tsx', 'bench/peers/bare-search.ts'] });
  targets.push({ name: 'bare (control)', process: bare, cases: { [SORTED]: CASES[SORTED] } });
  return targets;
}

export async function run(): Promise<void> {
  if (!process.env.DATABASE_URL) {
    console.log('search: skipped, it needs PostgreSQL (DATABASE_URL)');
    return;
  }
  const database = await createTestDatabase();
  const databaseName = new URL(database.url).pathname.slice(1);
  const db = await openDatabase({ databaseUrl: database.url, dataDir: 'unused' });
  let targets: Target[] = [];
  try {
    await migrate(db);
    targets = await startTargets(database.url);
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

    const steps = [
      { key: 'sql', measure: () => sqlFigure(db, databaseName) },
      ...targets.flatMap((target) =>
        Object.entries(target.cases).map(([name, path]) => ({ key: `${target.name}|${name}`, measure: () => apiFigure(target, databaseName, path) })),
      ),
    ];
    const figures = new Map<string, Figure[]>();
    const loads: number[] = [];
    // A warm-up round first (JIT, caches, pools, prepared statements), not counted.
    for (let round = 0; round <= ROUNDS; round++) {
      if (round > 0) loads.push(loadavg()[0]);
      const order = steps.map((step) => ({ step, sort: Math.random() })).sort((a, b) => a.sort - b.sort).map(({ step }) => step);
      for (const { key, measure } of order) {
        const figure = await measure();
        if (round > 0) figures.set(key, [...(figures.get(key) ?? []), figure]);
      }
    }
    const medianOf = (key: string) => ({ rate: median(figures.get(key)!.map((f) => f.rate)), cpu: median(figures.get(key)!.map((f) => f.cpu)) });
    const sql = medianOf('sql');
    const line = (label: string, figure: Figure, ratio = '') =>
      console.log(`${label.padEnd(72)}${figure.rate.toFixed(0).padStart(6)} /s  CPU ${figure.cpu.toFixed(0).padStart(5)} µs/request${ratio}`);
    console.log(`\nmedian of ${ROUNDS} rounds; load average (1 min) over the rounds: ${loads.map((l) => l.toFixed(1)).join(', ')}`);
    line('hand-written SQL (client pool; CPU: this process + backends)', sql);
    for (const target of targets) {
      for (const name of Object.keys(target.cases)) {
        const figure = medianOf(`${target.name}|${name}`);
        line(`${target.name.padEnd(26)} ${name}`, figure, name === SORTED ? `   ÷ SQL = ${(figure.rate / sql.rate).toFixed(2)}` : '');
      }
    }
  } finally {
    for (const target of targets) {
      target.process.child.kill('SIGTERM');
      await target.process.exited;
    }
    await db.close();
    await database.drop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await run();
