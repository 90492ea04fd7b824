// Issue 21's read targets measured in ONE run, in interleaved rounds (health, Basic, Bearer, search, health, ...),
// so that the load of a shared machine weighs on every case alike: GET /health (one `select 1`), an authorized
// read of Patient/p1 with Basic auth and with a Bearer JWT, and Observation?patient=X&code=Y, each as a ratio of
// /health (median of the rounds), with the server's CPU per request (Warden plus its PostgreSQL backends), which
// a busy machine disturbs far less than throughput.
//   DATABASE_URL=postgres://... npx tsx bench/reads.ts
//   BENCH_ROUNDS=10 BENCH_ROUND_SECONDS=2 BENCH_CONNECTIONS=16 npx tsx bench/reads.ts
//   BENCH_BASE=/path/to/other/checkout[,/another]   also runs those checkouts' servers, interleaved with this one (A/B)
//   BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"   node options for the servers (profiles)
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { backendPids, cpuSeconds } from './cpu.ts';
import { createTestDatabase, freePort } from '../test/helpers/server.ts';

const repo = fileURLToPath(new URL('../', import.meta.url));
const rounds = Number(process.env.BENCH_ROUNDS ?? 8);
const roundSeconds = Number(process.env.BENCH_ROUND_SECONDS ?? 2);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const CLIENT = { id: 'bench', secret: 'bench-secret' };
const BASIC = `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`;

interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  database?: string;
  drop?: () => Promise<void>;
  cases: Record<string, { path: string; headers: Record<string, string> }>;
}

async function start(name: string, cwd: string): Promise<Server> {
  const database = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts'], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '', NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', WARDEN_WORKERS: '1',
      WARDEN_ROOT_CLIENT_ID: CLIENT.id, WARDEN_ROOT_CLIENT_SECRET: CLIENT.secret, WARDEN_TOKEN_SIGNING_ALG: process.env.BENCH_ALG ?? 'RS256',
      ...(database ? { DATABASE_URL: database.url } : { WARDEN_DATA_DIR: 'memory://' }),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  while (!(await fetch(`${url}/health`).then((response) => response.ok, () => false))) {
    if (child.exitCode !== null) throw new Error(`${name}: server exited with ${child.exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
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
    name, url, child, drop: database?.drop, database: database && new URL(database.url).pathname.slice(1),
    cases: {
      health: { path: '/health', headers: {} },
      basic: { path: '/Patient/p1', headers: { authorization: BASIC } },
      bearer: { path: '/Patient/p1', headers: { authorization: `Bearer ${token}` } },
      search: { path: '/Observation?patient=p1&code=8867-4', headers: { authorization: BASIC } },
    },
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function run(): Promise<void> {
  const bases = (process.env.BENCH_BASE ?? '').split(',').filter(Boolean);
  const servers = [];
  for (const [i, base] of bases.entries()) servers.push(await start(bases.length > 1 ? `base${i + 1}` : 'base', base));
  servers.push(await start('this', repo));
  const wanted = (process.env.BENCH_CASES ?? 'health,basic,bearer,search').split(',');
  const figures = new Map<string, { rps: number[]; cpu: number[]; wardenCpu: number[] }>();
  const loads: number[] = [];
  const steps = servers.flatMap((server) => wanted.map((name) => ({ server, name })));
  try {
    for (let round = 0; round <= rounds; round++) {
      // Each round in another order, so that no case always follows the same one.
      const order = steps.map((step) => ({ step, sort: Math.random() })).sort((a, b) => a.sort - b.sort).map(({ step }) => step);
      for (const { server, name } of order) {
        const pids = [server.child.pid!, ...(await backendPids(server.database))];
        const { path, headers } = server.cases[name];
        const [before, wardenBefore] = [cpuSeconds(pids), cpuSeconds([server.child.pid!])];
        const result = await autocannon({ url: `${server.url}${path}`, headers, connections, duration: roundSeconds });
        const perRequest = (used: number) => (used * 1e6) / Math.max(1, result.requests.total);
        const [cpu, wardenCpu] = [perRequest(cpuSeconds(pids) - before), perRequest(cpuSeconds([server.child.pid!]) - wardenBefore)];
        if (result.non2xx + result.errors > 0) throw new Error(`${server.name} ${name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        if (round === 0) continue; // warm-up: JIT, caches, connection pools, prepared statements
        const key = `${server.name} ${name}`;
        const figure = figures.get(key) ?? { rps: [], cpu: [], wardenCpu: [] };
        figure.rps.push(result.requests.total / roundSeconds);
        figure.cpu.push(cpu);
        figure.wardenCpu.push(wardenCpu);
        figures.set(key, figure);
      }
      loads.push(loadavg()[0]);
    }
  } finally {
    for (const server of servers) {
      await new Promise((resolve) => { server.child.once('exit', resolve); server.child.kill('SIGTERM'); });
      await server.drop?.();
    }
  }
  console.log(`reads: ${rounds} interleaved rounds of ${roundSeconds} s per case, ${connections} connections, ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded store'}; load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`);
  for (const server of servers) {
    const health = median(figures.get(`${server.name} health`)?.rps ?? [NaN]);
    for (const name of wanted) {
      const figure = figures.get(`${server.name} ${name}`)!;
      const rps = median(figure.rps);
      console.log(`${server.name.padEnd(6)} ${name.padEnd(7)} ${rps.toFixed(0).padStart(6)}/s  ${(rps / health).toFixed(2)}× /health  CPU µs/request: Warden ${median(figure.wardenCpu).toFixed(0).padStart(4)}, with PostgreSQL ${median(figure.cpu).toFixed(0).padStart(4)}`);
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
