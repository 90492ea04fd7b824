// WARDEN_WORKERS: one worker against two, on PostgreSQL, under Bearer and Basic reads. For each: requests/s, and
// CPU per request split between the server (Warden: supervisor and workers), its PostgreSQL backends and the load generator
// (autocannon, in this process). On a machine where these three share the cores, throughput cannot grow with
// workers; the CPU per request shows what each request costs, so what more cores would give. Beside Warden, the same
// figures for a control (bench/peers/bare-cluster.ts: a bare Fastify doing only a Basic check and one keyed select,
// 1 and 2 workers): what 2 workers add per request on this machine whatever the server.
//   DATABASE_URL=postgres://... npx tsx bench/workers.ts   (BENCH_ROUNDS alternating rounds, default 3, of BENCH_DURATION s
//   per figure, default 10; runs dist/main.js when built)
//   BENCH_RATE_PER_WORKER=1000   offers each worker that many requests a second (two workers twice as many in all)
//   instead of as many as answered: a process's CPU per request depends on how busy it is (a busy one reads and
//   writes many requests per wake-up), and this keeps each process as busy with two workers as with one.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pathToFileURL, fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createTestDatabase, freePort } from '../test/helpers/server.ts';
import { backendPids, childPids, cpuSeconds, stealMeter } from './cpu.ts';

const repo = fileURLToPath(new URL('../', import.meta.url));
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
/**
 * Requests per second offered to each worker (BENCH_RATE_PER_WORKER: 1 worker gets it, 2 workers twice it), so
 * that each process is as busy with one worker as with two; unset: as many as the server answers.
 */
const ratePerWorker = process.env.BENCH_RATE_PER_WORKER ? Number(process.env.BENCH_RATE_PER_WORKER) : undefined;
const ROOT = { id: 'bench', secret: 'bench-secret' };
const BASIC = `Basic ${Buffer.from(`${ROOT.id}:${ROOT.secret}`).toString('base64')}`;

interface Figure {
  rps: number;
  requests: number;
  failed: number;
  /** CPU microseconds per request. */
  server: number;
  postgres: number;
  loadGenerator: number;
}

/** A figure's sums over its rounds: CPU in µs (per request times requests). */
interface Totals {
  requests: number;
  seconds: number;
  failed: number;
  server: number;
  postgres: number;
  loadGenerator: number;
}

async function startWarden(workers: number, databaseUrl: string, port: number): Promise<ChildProcess> {
  // The production build, as `npm start` runs it, when there is one (`npm run build`); else the sources.
  const entry = existsSync(`${repo}dist/main.js`) ? ['dist/main.js'] : ['--import', 'tsx', 'src/main.ts'];
  const child = spawn(process.execPath, entry, {
    cwd: repo,
    env: {
      PATH: process.env.PATH ?? '', NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn',
      DATABASE_URL: databaseUrl, WARDEN_WORKERS: String(workers), WARDEN_ROOT_CLIENT_ID: ROOT.id, WARDEN_ROOT_CLIENT_SECRET: ROOT.secret,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // Ready when every worker is: each answers /health/ready on the shared port, so ask until enough distinct ones do.
  for (const deadline = Date.now() + 120_000; ; ) {
    if (child.exitCode !== null) throw new Error(`Warden exited with ${child.exitCode}`);
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then((response) => response.ok, () => false);
    if (ready && (workers === 1 || childPids(child.pid!).length >= workers)) return child;
    if (Date.now() > deadline) throw new Error('Warden did not start in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function measure(url: string, headers: Record<string, string>, seconds: number, server: ChildProcess, database: string, workers: number): Promise<Figure> {
  const serverPids = [server.pid!, ...childPids(server.pid!)];
  const postgresPids = await backendPids(database);
  const before = { server: cpuSeconds(serverPids), postgres: cpuSeconds(postgresPids), self: process.cpuUsage() };
  const result = await autocannon({ url, headers, connections, duration: seconds, ...(ratePerWorker ? { overallRate: ratePerWorker * workers } : {}) });
  const self = process.cpuUsage(before.self);
  const perRequest = (cpu: number) => (cpu * 1e6) / Math.max(1, result.requests.total);
  return {
    rps: result.requests.average,
    requests: result.requests.total,
    failed: result.non2xx + result.errors + result.timeouts,
    server: perRequest(cpuSeconds(serverPids) - before.server),
    postgres: perRequest(cpuSeconds(postgresPids) - before.postgres),
    loadGenerator: perRequest((self.user + self.system) / 1e6),
  };
}

/** The control (bench/peers/bare-cluster.ts): a bare clustered server doing the least an authorized read needs. */
async function startBareControl(workers: number, databaseUrl: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/peers/bare-cluster.ts'], {
    cwd: repo,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', PORT: String(port), DATABASE_URL: databaseUrl, WORKERS: String(workers) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the bare control exited with ${code}`)));
  });
  return child;
}

const BARE = 'bare control';

export async function run(): Promise<void> {
  if (!process.env.DATABASE_URL) {
    console.log('workers: needs DATABASE_URL (the embedded store runs one process)');
    return;
  }
  console.log(`load average before: ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
  const steal = stealMeter();
  // Every set-up runs side by side and is measured in alternating rounds, so that a change in the machine's
  // other load (it is shared) falls on all alike; each figure sums its rounds.
  const setups: { workers: number; database: { url: string; drop(): Promise<void> }; server: ChildProcess; base: string; headers: Record<string, Record<string, string>> }[] = [];
  const totals: Record<string, Record<number, Totals>> = { 'Bearer reads': {}, 'Basic reads': {}, [BARE]: {} };
  try {
    for (const workers of [1, 2]) {
      const database = await createTestDatabase();
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const server = await startWarden(workers, database.url, port);
      setups.push({ workers, database, server, base, headers: {} });
      await fetch(`${base}/Patient/p1`, { method: 'PUT', headers: { authorization: BASIC, 'content-type': 'application/json' }, body: JSON.stringify({ resourceType: 'Patient', id: 'p1' }) });
      const issued = await (await fetch(`${base}/auth/token`, { method: 'POST', headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' })).json() as { access_token: string };
      setups.at(-1)!.headers = { 'Bearer reads': { authorization: `Bearer ${issued.access_token}` }, 'Basic reads': { authorization: BASIC } };
    }
    for (const workers of [1, 2]) {
      const database = await createTestDatabase();
      const port = await freePort();
      const server = await startBareControl(workers, database.url, port);
      setups.push({ workers, database, server, base: `http://127.0.0.1:${port}`, headers: { [BARE]: { authorization: `Basic ${Buffer.from('bench:bench-secret').toString('base64')}` } } });
    }
    const measureCase = (setup: (typeof setups)[number], what: string, seconds: number) =>
      measure(`${setup.base}/Patient/p1`, setup.headers[what], seconds, setup.server, new URL(setup.database.url).pathname.slice(1), setup.workers);
    for (const setup of setups) for (const what of Object.keys(setup.headers)) await measureCase(setup, what, 2); // warm-up: JIT, caches, pools
    for (let round = 0; round < rounds; round++) {
      for (const what of Object.keys(totals)) {
        const measured = setups.filter((setup) => what in setup.headers);
        for (const setup of round % 2 === 0 ? measured : measured.reverse()) {
          const figure = await measureCase(setup, what, duration);
          const total = (totals[what][setup.workers] ??= { requests: 0, seconds: 0, failed: 0, server: 0, postgres: 0, loadGenerator: 0 });
          total.requests += figure.requests;
          total.seconds += duration;
          total.failed += figure.failed;
          for (const part of ['server', 'postgres', 'loadGenerator'] as const) total[part] += figure[part] * figure.requests;
        }
      }
    }
  } finally {
    for (const { server, database } of setups) {
      await new Promise((resolve) => { server.once('exit', resolve); server.kill('SIGTERM'); });
      await database.drop();
    }
  }
  const figures: Record<string, Record<number, Figure>> = {};
  for (const [what, byWorkers] of Object.entries(totals)) {
    figures[what] = {};
    for (const [workers, t] of Object.entries(byWorkers)) {
      figures[what][Number(workers)] = { rps: t.requests / t.seconds, requests: t.requests, failed: t.failed, server: t.server / t.requests, postgres: t.postgres / t.requests, loadGenerator: t.loadGenerator / t.requests };
    }
  }
  const line = (what: string, workers: number, f: Figure) =>
    `${what.padEnd(13)} ${workers} worker${workers > 1 ? 's' : ' '}  ${f.rps.toFixed(0).padStart(6)}/s   CPU µs/request: server ${f.server.toFixed(0).padStart(4)}  PostgreSQL ${f.postgres.toFixed(0).padStart(4)}  load generator ${f.loadGenerator.toFixed(0).padStart(4)}   failed ${f.failed}`;
  for (const [what, byWorkers] of Object.entries(figures)) {
    for (const workers of [1, 2]) console.log(line(what, workers, byWorkers[workers]));
    const [one, two] = [byWorkers[1], byWorkers[2]];
    console.log(`${''.padEnd(13)} 2 / 1 workers: throughput ${(two.rps / one.rps).toFixed(2)}×, server CPU per request ${(two.server / one.server).toFixed(2)}×`);
  }
  console.log(`load average after: ${loadavg().map((value) => value.toFixed(2)).join(' ')}; CPU stolen by the hypervisor during the run: ${(steal() * 100).toFixed(1)}%`);
  console.log(`${connections} connections, ${rounds} alternating rounds of ${duration} s per figure, on ${(await import('node:os')).availableParallelism()} cores shared by Warden, PostgreSQL and the load generator`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
