// Soak: a mixed load (tokens, Basic and Bearer reads, searches, writes) on one Warden process for a long time,
// printing each minute's throughput and the process's memory. A server that holds up serves the last minute
// within 10% of the second (the first warms up), with flat memory. Each minute also shows the database's size
// and the memory left; at the end a fresh process on the same database is measured beside the long-running one
// (alternating rounds), which tells a process that slows down from a database that grew.
//   npx tsx bench/soak.ts                                   (embedded store, 20 minutes)
//   DATABASE_URL=postgres://... npx tsx bench/soak.ts       (a fresh PostgreSQL database)
//   BENCH_SOAK_MINUTES=3 BENCH_MINUTE_SECONDS=20 npx tsx bench/soak.ts   (a short run: 3 "minutes" of 20 s)
// Add NODE_OPTIONS to the server's environment with BENCH_SERVER_NODE_OPTIONS; run another checkout's server with
// BENCH_SERVER_DIR (two soaks at once, this and that, compare under the same load); BENCH_SWEEP_SECONDS sets the
// server's WARDEN_SWEEP_INTERVAL_SECONDS (an accelerated run sweeps more often).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon, { type Request } from 'autocannon';
import postgres from 'postgres';
import { backendPids, cpuSeconds } from './cpu.ts';
import { createTestDatabase, freePort } from '../test/helpers/server.ts';

const repo = fileURLToPath(new URL('../', import.meta.url));
const minutes = Number(process.env.BENCH_SOAK_MINUTES ?? 20);
const minuteSeconds = Number(process.env.BENCH_MINUTE_SECONDS ?? 60);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 8);
const ROOT = { id: 'soak', secret: 'soak-secret' };
const BASIC = `Basic ${Buffer.from(`${ROOT.id}:${ROOT.secret}`).toString('base64')}`;
const FORM = { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' };
const JSON_BODY = { authorization: BASIC, 'content-type': 'application/json' };
/** Writes go to a fixed set of Patients, so the data searched stays the same size; their history grows. */
const WRITTEN_PATIENTS = 50;

/** The cluster's WAL so far (pg_stat_wal): bytes and full-page images. Cluster-wide: exact when the soak has its PostgreSQL to itself. */
async function walSoFar(): Promise<{ bytes: number; fullPages: number } | undefined> {
  if (!process.env.DATABASE_URL) return undefined;
  const admin = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin<{ bytes: string; full_pages: string }[]>`select wal_bytes::text as bytes, wal_fpi::text as full_pages from pg_stat_wal`;
    return { bytes: Number(row.bytes), fullPages: Number(row.full_pages) };
  } finally {
    await admin.end();
  }
}

function residentMegabytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function heapMegabytes(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: BASIC } })).text();
  return Number(/^warden_nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? 0) / 2 ** 20;
}

interface Warden {
  child: ChildProcess;
  base: string;
}

/** A Warden process of its own on `databaseUrl` (the embedded store in memory without one), ready to serve. */
async function startWarden(databaseUrl: string | undefined): Promise<Warden> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: process.env.BENCH_SERVER_DIR ?? repo,
    env: {
      ...(process.env.BENCH_SWEEP_SECONDS && { WARDEN_SWEEP_INTERVAL_SECONDS: process.env.BENCH_SWEEP_SECONDS }),
      PATH: process.env.PATH ?? '', NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn',
      WARDEN_WORKERS: '1', WARDEN_ROOT_CLIENT_ID: ROOT.id, WARDEN_ROOT_CLIENT_SECRET: ROOT.secret,
      NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS ?? '',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { WARDEN_DATA_DIR: 'memory://' }),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  while (!(await fetch(`${base}/health/ready`).then((response) => response.ok, () => false))) {
    if (child.exitCode !== null) throw new Error(`Warden exited with ${child.exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, base };
}

const stop = (warden: Warden) => new Promise((resolve) => {
  if (warden.child.exitCode !== null) return resolve(undefined);
  warden.child.once('exit', resolve);
  warden.child.kill('SIGTERM');
});

/** The database's size and the machine's available memory: a database outgrowing the page cache slows PostgreSQL, not Warden. */
async function storage(databaseUrl: string | undefined): Promise<string> {
  const available = Number(/MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 2 ** 20;
  if (!databaseUrl) return `  memory available ${available.toFixed(1)} GB`;
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ bytes: string }[]>`select pg_database_size(current_database())::text as bytes`;
    return `  database ${(Number(row.bytes) / 2 ** 30).toFixed(1)} GB, memory available ${available.toFixed(1)} GB`;
  } finally {
    await sql.end();
  }
}

export async function run(): Promise<void> {
  const database = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
  const warden = await startWarden(database?.url);
  const { child, base } = warden;
  let fresh: Warden | undefined;
  try {
    for (let i = 0; i < WRITTEN_PATIENTS; i++) {
      await fetch(`${base}/Patient/soak-${i}`, { method: 'PUT', headers: JSON_BODY, body: JSON.stringify({ resourceType: 'Patient', id: `soak-${i}`, name: [{ family: 'Soak' }] }) });
    }
    const token = async () =>
      ((await (await fetch(`${base}/auth/token`, { method: 'POST', headers: FORM, body: 'grant_type=client_credentials' })).json()) as { access_token: string }).access_token;
    let bearer = await token();
    let write = 0;
    const requests: Request[] = [
      { method: 'POST', path: '/auth/token', headers: FORM, body: 'grant_type=client_credentials' },
      { method: 'GET', path: '/Patient/soak-1', headers: { authorization: BASIC } },
      { method: 'GET', path: '/Patient/soak-2', setupRequest: (request) => ({ ...request, headers: { authorization: `Bearer ${bearer}` } }) },
      { method: 'GET', path: '/Patient?family=Soak&_count=10', headers: { authorization: BASIC } },
      {
        method: 'PUT',
        setupRequest: (request) => {
          const id = `soak-${write++ % WRITTEN_PATIENTS}`;
          return { ...request, path: `/Patient/${id}`, headers: JSON_BODY, body: JSON.stringify({ resourceType: 'Patient', id, name: [{ family: 'Soak' }], active: write % 2 === 0 }) };
        },
      },
    ];
    const throughput: number[] = [];
    console.log(`soak: ${minutes} × ${minuteSeconds} s, ${connections} connections, ${database ? 'PostgreSQL' : 'embedded store'}; mix: token, Basic read, Bearer read, search, write`);
    for (let minute = 1; minute <= minutes; minute++) {
      bearer = await token(); // tokens last longer than a minute; a fresh one keeps the Bearer reads valid in any run
      // CPU per request (Warden, and it with its PostgreSQL backends): steadier than throughput on a shared machine.
      const backends = await backendPids(database && new URL(database.url).pathname.slice(1));
      const [wardenBefore, allBefore] = [cpuSeconds([child.pid!]), cpuSeconds([child.pid!, ...backends])];
      const walBefore = await walSoFar();
      const result = await autocannon({ url: base, connections, duration: minuteSeconds, requests });
      const perRequest = (before: number, pids: number[]) => (((cpuSeconds(pids) - before) * 1e6) / Math.max(1, result.requests.total)).toFixed(0).padStart(4);
      throughput.push(result.requests.average);
      const failed = result.non2xx + result.errors + result.timeouts;
      const walAfter = await walSoFar();
      const wal = walBefore && walAfter
        ? `  WAL ${((walAfter.bytes - walBefore.bytes) / 1024 / Math.max(1, result.requests.total)).toFixed(1).padStart(5)} KB/request (${((walAfter.fullPages - walBefore.fullPages) / Math.max(1, result.requests.total)).toFixed(2)} full pages)`
        : '';
      console.log(
        `minute ${String(minute).padStart(2)}  ${result.requests.average.toFixed(0).padStart(5)} req/s  p99 ${String(result.latency.p99).padStart(4)} ms  ` +
          `CPU ${perRequest(wardenBefore, [child.pid!])} µs/request (+PostgreSQL ${perRequest(allBefore, [child.pid!, ...backends])})  ` +
          `RSS ${residentMegabytes(child.pid!).toFixed(0).padStart(4)} MB  heap ${(await heapMegabytes(base)).toFixed(0).padStart(4)} MB${wal}  failed ${failed}  load ${loadavg()[0].toFixed(1)}${await storage(database?.url)}`,
      );
    }
    if (throughput.length >= 3) {
      const ratio = throughput[throughput.length - 1] / throughput[1];
      console.log(`last minute / second minute: ${ratio.toFixed(2)}× (target ≥ 0.90: ${ratio >= 0.9 ? 'met' : 'MISSED'})`);
    }
    if (database) {
      // The issue's question: is a long-running process slower than a fresh one on the same (grown) database?
      // Rounds alternate between the two, so the machine's load falls on both alike.
      fresh = await startWarden(database.url);
      await autocannon({ url: fresh.base, connections, duration: Math.max(5, minuteSeconds / 3), requests }); // warms it up (JIT, caches)
      const rates = { long: [] as number[], fresh: [] as number[] };
      for (let round = 0; round < 3; round++) {
        for (const [name, target] of [['long', warden], ['fresh', fresh]] as const) {
          bearer = await token();
          const result = await autocannon({ url: target.base, connections, duration: Math.max(5, minuteSeconds / 3), requests });
          rates[name].push(result.requests.average);
        }
      }
      const median = (values: number[]) => [...values].sort((a, b) => a - b)[1];
      console.log(
        `same database, alternating rounds: long-running ${median(rates.long).toFixed(0)} req/s, fresh process ${median(rates.fresh).toFixed(0)} req/s ` +
          `(long-running ÷ fresh ${(median(rates.long) / median(rates.fresh)).toFixed(2)}×)`,
      );
    }
  } finally {
    await stop(warden);
    if (fresh) await stop(fresh);
    await database?.drop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
