// Issue 21's read targets measured in ONE run, in interleaved rounds (health, Basic, Bearer, search, health, ...),
// so that the load of a shared machine weighs on every case alike: GET /health (one `select 1`), an authorized
// read of Patient/p1 with Basic auth and with a Bearer JWT, and Observation?patient=X&code=Y, each as a ratio of
// /health (median of the rounds), with the server's CPU per request (Warden plus its PostgreSQL backends), which
// a busy machine disturbs far less than throughput.
// On PostgreSQL a control runs in the same rounds: a bare Fastify (bench/peers/bare-reads.ts) on the same
// database answering its own /health and the same reads and search with nothing but a cached credential check,
// one select (for the search, one hand-written statement over Warden's index) and the reply. Its ratios to its
// /health are the most any server reaches on this machine.
//   DATABASE_URL=postgres://... npx tsx bench/reads.ts
//   BENCH_ROUNDS=10 BENCH_ROUND_SECONDS=2 BENCH_CONNECTIONS=16 npx tsx bench/reads.ts
//   BENCH_BASE=/path/to/other/checkout[,/another]   also runs those checkouts' servers, interleaved with this one (A/B)
//   BENCH_AUDIT_OFF=1   also runs this checkout with WARDEN_AUDIT=false: what the audit trail's share is
//   BENCH_CASES=health,basic,bearer   only these cases
//   BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"   node options for the Warden servers (profiles)
//   BENCH_BUILT=1   runs each checkout's server from its dist/ build, as `npm start` does (bench/entry.ts)
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { cpuSeconds, stealMeter } from './cpu.ts';
import { scriptArgs } from './entry.ts';
import { createTestDatabase, freePort } from '../test/helpers/server.ts';

const repo = fileURLToPath(new URL('../', import.meta.url));
const rounds = Number(process.env.BENCH_ROUNDS ?? 8);
const roundSeconds = Number(process.env.BENCH_ROUND_SECONDS ?? 2);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const CLIENT = { id: 'bench', secret: 'bench-secret' };
const BASIC = `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`;
const CONTROL = 'bare';
/** The control's connections name themselves so (bench/peers/bare-reads.ts). */
const CONTROL_APPLICATION = 'bare-reads';

interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  /** Its PostgreSQL database, whose backends' CPU counts as its own (the control's: those it names its own). */
  database?: { name: string; control: boolean };
  databaseUrl?: string;
  drop?: () => Promise<void>;
  cases: Record<string, { path: string; headers: Record<string, string> }>;
}

/** The backends of one server's connections (the control shares Warden's database; its backends are named apart). */
async function backendPids(database: Server['database']): Promise<number[]> {
  if (!database || !process.env.DATABASE_URL) return [];
  const admin = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    const rows = await admin<{ pid: number }[]>`select pid from pg_stat_activity where datname = ${database.name}
      and (application_name = ${CONTROL_APPLICATION}) = ${database.control}`;
    return rows.map((row) => row.pid);
  } finally {
    await admin.end();
  }
}

async function spawnServer(name: string, script: string, cwd: string, nodeArgs: string[], env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...nodeArgs, ...scriptArgs(cwd, script)], {
    cwd,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  while (!(await fetch(`${url}/health`).then((response) => response.ok, () => false))) {
    if (child.exitCode !== null) throw new Error(`${name}: server exited with ${child.exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, child };
}

/** The four cases, the same for Warden and the control; `token` is a Bearer token the server issued. */
const casesWith = (token: string): Server['cases'] => ({
  health: { path: '/health', headers: {} },
  basic: { path: '/Patient/p1', headers: { authorization: BASIC } },
  bearer: { path: '/Patient/p1', headers: { authorization: `Bearer ${token}` } },
  search: { path: '/Observation?patient=p1&code=8867-4', headers: { authorization: BASIC } },
});

async function startWarden(name: string, cwd: string, env: Record<string, string> = {}): Promise<Server> {
  const database = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const { url, child } = await spawnServer(name, 'src/main.ts', cwd, nodeArgs, {
    HOST: '127.0.0.1', LOG_LEVEL: 'warn', WARDEN_WORKERS: '1',
    WARDEN_ROOT_CLIENT_ID: CLIENT.id, WARDEN_ROOT_CLIENT_SECRET: CLIENT.secret, WARDEN_TOKEN_SIGNING_ALG: process.env.BENCH_ALG ?? 'RS256',
    ...(database ? { DATABASE_URL: database.url } : { WARDEN_DATA_DIR: 'memory://' }),
    ...env,
  });
  const put = async (path: string, body: object) => {
    const response = await fetch(`${url}${path}`, { method: 'PUT', headers: { authorization: BASIC, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`${name}: PUT ${path}: ${response.status} ${await response.text()}`);
  };
  await put('/Patient/p1', { resourceType: 'Patient', id: 'p1', active: true });
  for (let i = 0; i < 20; i++) {
    await put(`/Observation/o${i}`, {
      resourceType: 'Observation', id: `o${i}`, status: 'final', subject: { reference: `Patient/p${i % 4 === 0 ? 1 : 2}` },
      code: { coding: [{ system: 'http://loinc.org', code: i % 2 === 0 ? '8867-4' : '9279-1' }] },
    });
  }
  const issued = await fetch(`${url}/auth/token`, { method: 'POST', headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
  const token = ((await issued.json()) as { access_token: string }).access_token;
  return {
    name, url, child, drop: database?.drop,
    ...(database && { databaseUrl: database.url, database: { name: new URL(database.url).pathname.slice(1), control: false } }),
    cases: casesWith(token),
  };
}

/** The control, on the database of `warden` (which holds Patient/p1): the same reads with nothing around them. */
async function startControl(warden: Server): Promise<Server> {
  const { url, child } = await spawnServer(CONTROL, 'bench/peers/bare-reads.ts', repo, [], { DATABASE_URL: warden.databaseUrl! });
  const issued = await fetch(`${url}/token`, { method: 'POST', headers: { authorization: BASIC } });
  const token = ((await issued.json()) as { access_token: string }).access_token;
  return {
    name: CONTROL, url, child, database: { name: warden.database!.name, control: true },
    cases: casesWith(token),
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function run(): Promise<void> {
  const bases = (process.env.BENCH_BASE ?? '').split(',').filter(Boolean);
  const servers: Server[] = [];
  const wanted = (process.env.BENCH_CASES ?? 'health,basic,bearer,search').split(',');
  const figures = new Map<string, { rps: number[]; cpu: number[]; serverCpu: number[] }>();
  const loads: number[] = [];
  const steal = stealMeter();
  try {
    for (const [i, base] of bases.entries()) servers.push(await startWarden(bases.length > 1 ? `base${i + 1}` : 'base', base));
    const warden = await startWarden('this', repo);
    servers.push(warden);
    if (process.env.BENCH_AUDIT_OFF) servers.push(await startWarden('no-audit', repo, { WARDEN_AUDIT: 'false' }));
    if (warden.databaseUrl) servers.push(await startControl(warden));
    const steps = servers.flatMap((server) => wanted.filter((name) => server.cases[name]).map((name) => ({ server, name })));
    for (let round = 0; round <= rounds; round++) {
      // Each round in another order, so that no case always follows the same one.
      const order = steps.map((step) => ({ step, sort: Math.random() })).sort((a, b) => a.sort - b.sort).map(({ step }) => step);
      for (const { server, name } of order) {
        const pids = [server.child.pid!, ...(await backendPids(server.database))];
        const { path, headers } = server.cases[name];
        const [before, serverBefore] = [cpuSeconds(pids), cpuSeconds([server.child.pid!])];
        const result = await autocannon({ url: `${server.url}${path}`, headers, connections, duration: roundSeconds });
        const perRequest = (used: number) => (used * 1e6) / Math.max(1, result.requests.total);
        const [cpu, serverCpu] = [perRequest(cpuSeconds(pids) - before), perRequest(cpuSeconds([server.child.pid!]) - serverBefore)];
        if (result.non2xx + result.errors > 0) throw new Error(`${server.name} ${name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        if (round === 0) continue; // warm-up: JIT, caches, connection pools, prepared statements
        const key = `${server.name} ${name}`;
        const figure = figures.get(key) ?? { rps: [], cpu: [], serverCpu: [] };
        figure.rps.push(result.requests.total / roundSeconds);
        figure.cpu.push(cpu);
        figure.serverCpu.push(serverCpu);
        figures.set(key, figure);
      }
      loads.push(loadavg()[0]);
    }
  } finally {
    // The control first: it reads from a Warden's database, dropped with that Warden.
    for (const server of [...servers].reverse()) {
      await new Promise((resolve) => { server.child.once('exit', resolve); server.child.kill('SIGTERM'); });
      await server.drop?.();
    }
  }
  console.log(`reads: ${rounds} interleaved rounds of ${roundSeconds} s per case, ${connections} connections, ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded store'}; load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}; CPU stolen by the hypervisor ${(steal() * 100).toFixed(1)}%`);
  const ratio = (server: string, name: string) => median(figures.get(`${server} ${name}`)?.rps ?? [NaN]) / median(figures.get(`${server} health`)?.rps ?? [NaN]);
  for (const server of servers) {
    for (const name of wanted) {
      const figure = figures.get(`${server.name} ${name}`);
      if (!figure) continue;
      const rps = median(figure.rps);
      console.log(`${server.name.padEnd(8)} ${name.padEnd(7)} ${rps.toFixed(0).padStart(6)}/s  ${ratio(server.name, name).toFixed(2)}× /health  CPU µs/request: server ${median(figure.serverCpu).toFixed(0).padStart(4)}, with PostgreSQL ${median(figure.cpu).toFixed(0).padStart(4)}`);
    }
  }
  if (servers.some((server) => server.name === CONTROL)) {
    const ratios = (server: string) => ['basic', 'bearer', 'search'].filter((name) => wanted.includes(name)).map((name) => `${name} ${ratio(server, name).toFixed(2)}`).join(', ');
    console.log(`ceiling (the bare control's case ÷ its /health): ${ratios(CONTROL)}; this Warden: ${ratios('this')}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
