// What the HTTP API costs over the store: create and read of a Patient through the API (a real server
// process, root client Basic auth, driven by autocannon) against the same operations run directly on the
// store (ResourceStore.write/read in a loop at the same concurrency), as a ratio API ÷ store, per engine.
//   npx tsx bench/store-api.ts        (PostgreSQL too when DATABASE_URL is set; BENCH_SECONDS per case, default 5)
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import autocannon, { type Result } from 'autocannon';
import type { Database } from '../src/store/database.ts';
import { openDatabase } from '../src/store/open-database.ts';
import { migrate } from '../src/store/migrations.ts';
import { ResourceStore, type Resource } from '../src/store/resource-store.ts';
import { writeResourceIndexes } from '../src/iam/resource-indexes.ts';
import { processStore, spawnServer } from '../test/helpers/process.ts';
import { basic, ROOT } from '../test/helpers/server.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 10;
/** A typical Patient, the body every store benchmark writes. */
export const PATIENT = {
  resourceType: 'Patient',
  active: true,
  name: [{ family: 'Benchmark', given: ['Ada', 'B.'] }],
  gender: 'female',
  birthDate: '1970-01-01',
  address: [{ line: ['1 Main Street'], city: 'Springfield', postalCode: '12345', country: 'US' }],
};
const READ_ID = 'bench-read';
const patient = (id: string): Resource => ({ ...PATIENT, id });

type Engine = 'pglite' | 'postgres';
export interface Row {
  engine: Engine;
  operation: 'create' | 'read';
  api: number;
  store: number;
  apiP99: number;
}

/** A fresh store for one engine: a temporary PGlite folder, or a new PostgreSQL database. */
/** A store for server processes that outlives them (the test helper's). */
export const freshStore = (engine: Engine) => processStore(engine);

/** Runs `operation` from `concurrency` loops for `seconds`; answers operations per second. */
export async function loop(concurrency: number, seconds: number, operation: () => Promise<unknown>): Promise<number> {
  let done = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await operation();
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

async function storeFigures(env: Record<string, string>): Promise<{ create: number; read: number }> {
  let db: Database | undefined;
  try {
    db = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.WARDEN_DATA_DIR });
    await migrate(db);
    const store = new ResourceStore(db, writeResourceIndexes);
    await store.write(patient(READ_ID), null);
    const create = await loop(CONNECTIONS, SECONDS, () => store.write(patient(randomUUID()), null));
    const read = await loop(CONNECTIONS, SECONDS, async () => {
      if (!(await store.read('Patient', READ_ID))) throw new Error('the read resource is missing');
    });
    return { create, read };
  } finally {
    await db?.close();
  }
}

async function apiFigures(env: Record<string, string>): Promise<{ create: Result; read: Result }> {
  // Logging at warn: the figure is the API's cost, not that of writing a log line per request to a pipe.
  const server = await spawnServer({ ...env, LOG_LEVEL: 'warn' });
  try {
    const headers = { authorization: basic(ROOT.id, ROOT.secret), 'content-type': 'application/fhir+json' };
    const put = await fetch(`${server.url}/Patient/${READ_ID}`, { method: 'PUT', headers, body: JSON.stringify(PATIENT) });
    if (put.status !== 200 && put.status !== 201) throw new Error(`could not create ${READ_ID}: ${put.status} ${await put.text()}`);
    const run = (options: { method: string; path: string; body?: string }) =>
      autocannon({ url: `${server.url}${options.path}`, connections: CONNECTIONS, duration: SECONDS, method: options.method, headers, body: options.body });
    const create = await run({ method: 'POST', path: '/Patient', body: JSON.stringify(PATIENT) });
    const read = await run({ method: 'GET', path: `/Patient/${READ_ID}` });
    for (const [name, result] of Object.entries({ create, read })) {
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`API ${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
    }
    return { create, read };
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
}

const perSecond = (result: Result) => result['2xx'] / result.duration;

export async function measure(): Promise<Row[]> {
  const engines: Engine[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
  const rows: Row[] = [];
  for (const engine of engines) {
    // One store per engine, used by the store loops first, then by the server (a PGlite folder is made once:
    // creating one takes far longer than the measurement).
    const { env, cleanup } = await freshStore(engine);
    let store, api;
    try {
      store = await storeFigures(env);
      api = await apiFigures(env);
    } finally {
      await cleanup();
    }
    for (const operation of ['create', 'read'] as const) {
      rows.push({ engine, operation, api: perSecond(api[operation]), store: store[operation], apiP99: api[operation].latency.p99 });
    }
  }
  return rows;
}

export function formatTable(rows: Row[]): string {
  const header = ['engine', 'operation', 'API ops/s', 'store ops/s', 'API ÷ store', 'API p99 ms'];
  const lines = rows.map((row) => [
    row.engine,
    row.operation,
    row.api.toFixed(0),
    row.store.toFixed(0),
    (row.api / row.store).toFixed(2),
    row.apiP99.toFixed(1),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i].length)));
  const format = (cells: string[]) => cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' | ');
  return [format(header), widths.map((width) => '-'.repeat(width)).join('-|-'), ...lines.map(format)].join('\n');
}

export async function run(): Promise<void> {
  console.log(`store-api: Patient create and read, API (HTTP, Basic auth) vs ResourceStore directly; ${CONNECTIONS} concurrent, ${SECONDS}s per case`);
  console.log(formatTable(await measure()));
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await run();
