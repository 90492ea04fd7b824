// WARDEN_WORKERS: one worker against two, on PostgreSQL, under Bearer and Basic reads. For each: requests/s, and
// CPU per request split between Warden (supervisor and workers), its PostgreSQL backends and the load generator
// (autocannon, in this process). On a machine where these three share the cores, throughput cannot grow with
// workers; the CPU per request shows what each request costs, so what more cores would give.
//   DATABASE_URL=postgres://... npx tsx bench/workers.ts       (BENCH_DURATION s per figure, default 10)
import { spawn, type ChildProcess } from 'node:child_process';
import { pathToFileURL, fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createTestDatabase, freePort } from '../test/helpers/server.ts';
import { backendPids, childPids, cpuSeconds } from './cpu.ts';

const repo = fileURLToPath(new URL('../', import.meta.url));
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ROOT = { id: 'bench', secret: 'bench-secret' };
const BASIC = `Basic ${Buffer.from(`${ROOT.id}:${ROOT.secret}`).toString('base64')}`;

interface Figure {
  rps: number;
  failed: number;
  /** CPU microseconds per request. */
  warden: number;
  postgres: number;
  loadGenerator: number;
}

async function startWarden(workers: number, databaseUrl: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
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

async function measure(url: string, headers: Record<string, string>, seconds: number, warden: ChildProcess, database: string): Promise<Figure> {
  const wardenPids = [warden.pid!, ...childPids(warden.pid!)];
  const postgresPids = await backendPids(database);
  const before = { warden: cpuSeconds(wardenPids), postgres: cpuSeconds(postgresPids), self: process.cpuUsage() };
  const result = await autocannon({ url, headers, connections, duration: seconds });
  const self = process.cpuUsage(before.self);
  const perRequest = (cpu: number) => (cpu * 1e6) / Math.max(1, result.requests.total);
  return {
    rps: result.requests.average,
    failed: result.non2xx + result.errors + result.timeouts,
    warden: perRequest(cpuSeconds(wardenPids) - before.warden),
    postgres: perRequest(cpuSeconds(postgresPids) - before.postgres),
    loadGenerator: perRequest((self.user + self.system) / 1e6),
  };
}

export async function run(): Promise<void> {
  if (!process.env.DATABASE_URL) {
    console.log('workers: needs DATABASE_URL (the embedded store runs one process)');
    return;
  }
  const figures: Record<string, Record<number, Figure>> = { 'Bearer reads': {}, 'Basic reads': {} };
  for (const workers of [1, 2]) {
    const database = await createTestDatabase();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const warden = await startWarden(workers, database.url, port);
    try {
      await fetch(`${base}/Patient/p1`, { method: 'PUT', headers: { authorization: BASIC, 'content-type': 'application/json' }, body: JSON.stringify({ resourceType: 'Patient', id: 'p1' }) });
      const issued = await (await fetch(`${base}/auth/token`, { method: 'POST', headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' })).json() as { access_token: string };
      const name = new URL(database.url).pathname.slice(1);
      for (const [what, authorization] of [['Bearer reads', `Bearer ${issued.access_token}`], ['Basic reads', BASIC]] as const) {
        await measure(`${base}/Patient/p1`, { authorization }, 2, warden, name); // warm-up: JIT, caches, pools
        figures[what][workers] = await measure(`${base}/Patient/p1`, { authorization }, duration, warden, name);
      }
    } finally {
      await new Promise((resolve) => { warden.once('exit', resolve); warden.kill('SIGTERM'); });
      await database.drop();
    }
  }
  const line = (what: string, workers: number, f: Figure) =>
    `${what.padEnd(13)} ${workers} worker${workers > 1 ? 's' : ' '}  ${f.rps.toFixed(0).padStart(6)}/s   CPU µs/request: Warden ${f.warden.toFixed(0).padStart(4)}  PostgreSQL ${f.postgres.toFixed(0).padStart(4)}  load generator ${f.loadGenerator.toFixed(0).padStart(4)}   failed ${f.failed}`;
  for (const [what, byWorkers] of Object.entries(figures)) {
    for (const workers of [1, 2]) console.log(line(what, workers, byWorkers[workers]));
    const [one, two] = [byWorkers[1], byWorkers[2]];
    console.log(`${''.padEnd(13)} 2 / 1 workers: throughput ${(two.rps / one.rps).toFixed(2)}×, Warden CPU per request ${(two.warden / one.warden).toFixed(2)}×`);
  }
  console.log(`${connections} connections, ${duration} s per figure, on ${(await import('node:os')).availableParallelism()} cores shared by Warden, PostgreSQL and the load generator`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
