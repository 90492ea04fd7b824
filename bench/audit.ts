// Benchmark for issue 17: what the audit trail costs. Authorized Bearer reads (GET /Patient/{id}, one
// PatientRead event each) and token issuance (client_credentials, one ITI-71 event each), on a Warden auditing
// and one that does not. Target: each ratio (on / off) >= 0.9.
//   npx tsx bench/audit.ts                               (embedded store)
//   DATABASE_URL=postgres://... npx tsx bench/audit.ts   (PostgreSQL; a fresh database per server)
//   BENCH_ROUNDS=6 BENCH_ROUND_SECONDS=3 BENCH_CONNECTIONS=10 BENCH_ALG=RS256|ES256
//   BENCH_BASE=/path/to/other/checkout   also runs that checkout's two Wardens in the same rounds (before/after)
//   BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"   node options for the Warden servers
//   BENCH_BUILT=1   runs each checkout's Warden from its dist/ build, as `npm start` does (bench/entry.ts)
// Every server is a process of its own, so each figure carries its CPU per request: Warden's process and its
// PostgreSQL backends, which a busy machine disturbs far less than throughput. Each round loads every server and
// case in a new order; a ratio is the median of the rounds' own ratios. The load average is printed.
//
// The floor (with PostgreSQL): a bare Fastify answering a small JSON document, alone and with a minimal audit
// trail (one small row per read, queued and INSERTed in batches off the request path, bench/peers/bare-audit.ts).
// What that row costs in CPU is the least any trail stored durably in the same PostgreSQL can cost; added to the
// CPU of Warden without auditing, it bounds the ratio this machine can give when the CPU is what limits.
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon, { type Request } from 'autocannon';
import postgres from 'postgres';
import { backendPids, cpuSeconds } from './cpu.ts';
import { scriptArgs } from './entry.ts';
import { createTestDatabase, freePort } from '../test/helpers/server.ts';

const repo = fileURLToPath(new URL('../', import.meta.url));
const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const roundSeconds = Number(process.env.BENCH_ROUND_SECONDS ?? process.env.BENCH_SECONDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const ROOT = { id: 'root', secret: 'bench-root-secret-0123456789' };
const CLIENT = { id: 'bench', secret: 'bench-secret-0123456789' };
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const FORM = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(CLIENT.id, CLIENT.secret) };

type Kind = 'read' | 'token';

interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  /** Its PostgreSQL database, whose backends' CPU is counted beside the server's. */
  database?: { url: string; name: string; drop: () => Promise<void> };
  cases: Partial<Record<Kind, Request & { path: string }>>;
}

async function spawnServer(name: string, cwd: string, script: string, env: Record<string, string>, nodeArgs: string[]): Promise<Omit<Server, 'cases'>> {
  const created = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
  const database = created && { ...created, name: new URL(created.url).pathname.slice(1) };
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...nodeArgs, ...scriptArgs(cwd, script)], {
    cwd,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', ...env, ...(database ? { DATABASE_URL: database.url } : { WARDEN_DATA_DIR: 'memory://' }) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 120_000;
  while (!(await fetch(`${url}/health`).then((response) => response.ok, () => false))) {
    if (child.exitCode !== null) throw new Error(`${name}: server exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`${name}: not up in time`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { name, url, child, database };
}

async function startWarden(name: string, cwd: string, auditing: boolean): Promise<Server> {
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const server = await spawnServer(name, cwd, 'src/main.ts', {
    LOG_LEVEL: 'warn', WARDEN_WORKERS: '1', WARDEN_AUDIT: String(auditing),
    WARDEN_ROOT_CLIENT_ID: ROOT.id, WARDEN_ROOT_CLIENT_SECRET: ROOT.secret,
    ...(process.env.BENCH_ALG && { WARDEN_TOKEN_SIGNING_ALG: process.env.BENCH_ALG }),
  }, nodeArgs);
  const put = async (path: string, body: object) => {
    const response = await fetch(`${server.url}${path}`, { method: 'PUT', headers: { authorization: basic(ROOT.id, ROOT.secret), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`${name}: PUT ${path}: ${response.status} ${await response.text()}`);
  };
  // An ordinary client under an AccessPolicy (not root): the authorization step decides as for any caller.
  await put(`/Client/${CLIENT.id}`, { resourceType: 'Client', secret: CLIENT.secret, grant_types: ['client_credentials'] });
  await put('/AccessPolicy/bench', { resourceType: 'AccessPolicy', engine: 'allow', link: [{ resourceType: 'Client', id: CLIENT.id }] });
  await put('/Patient/bench', { resourceType: 'Patient', name: [{ family: 'Bench' }] });
  const issued = await fetch(`${server.url}/auth/token`, { method: 'POST', headers: FORM, body: 'grant_type=client_credentials' });
  if (issued.status !== 200) throw new Error(`${name}: token: ${issued.status} ${await issued.text()}`);
  const { access_token: token } = (await issued.json()) as { access_token: string };
  return {
    ...server,
    cases: {
      read: { path: '/Patient/bench', method: 'GET', headers: { authorization: `Bearer ${token}` } },
      token: { path: '/auth/token', method: 'POST', headers: FORM, body: 'grant_type=client_credentials' },
    },
  };
}

async function startBare(name: string, audit: boolean): Promise<Server> {
  const server = await spawnServer(name, repo, 'bench/peers/bare-audit.ts', { BARE_AUDIT: String(audit) }, []);
  return { ...server, cases: { read: { path: '/read', method: 'GET', headers: { authorization: 'Bearer bench' } } } };
}

interface Figure {
  rps: number;
  /** CPU µs per request of the server's process and of its PostgreSQL backends. */
  node: number;
  postgres: number;
}

async function measure(server: Server, kind: Kind): Promise<Figure> {
  const { path, ...request } = server.cases[kind]!;
  const backends = await backendPids(server.database?.name);
  const [nodeBefore, postgresBefore] = [cpuSeconds([server.child.pid!]), cpuSeconds(backends)];
  const result = await autocannon({ url: `${server.url}${path}`, connections, duration: roundSeconds, requests: [request] });
  const perRequest = (used: number) => (used * 1e6) / Math.max(1, result.requests.total);
  const figure = { rps: result['2xx'] / roundSeconds, node: perRequest(cpuSeconds([server.child.pid!]) - nodeBefore), postgres: perRequest(cpuSeconds(backends) - postgresBefore) };
  if (result.non2xx + result.errors > 0) throw new Error(`${server.name} ${kind}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return figure;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** What the auditing server wrote and dropped, from its metrics: dropped events would flatter its figures. */
async function auditCounters(server: Server): Promise<string> {
  const response = await fetch(`${server.url}/metrics`, { headers: { authorization: basic(ROOT.id, ROOT.secret) } });
  const text = await response.text();
  const value = (metric: string) => /^(\S+) (\S+)$/m.exec(text.split('\n').filter((line) => line.startsWith(`${metric} `)).join('\n'))?.[2] ?? '?';
  return `written ${value('warden_audit_written_total')}, dropped ${value('warden_audit_dropped_total')}, queued ${value('warden_audit_queue_size')}`;
}

/** How many batches wrote the server's events (each moves the chain head once): the mean batch size. */
async function batches(server: Server): Promise<string> {
  if (!server.database) return '';
  const sql = postgres(server.database.url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ batches: number; events: number }[]>`
      select (select n_tup_upd from pg_stat_user_tables where relname = 'audit_chain_head')::int as batches,
             (select count(*) from audit_chain)::int as events`;
    return `; ${row.events} in ${row.batches} batches (${(row.events / Math.max(1, row.batches)).toFixed(1)} per batch)`;
  } finally {
    await sql.end();
  }
}

/** `npm run bench -- audit`; `npx tsx bench/audit.ts` runs it alone. */
export async function run(): Promise<void> {
  const loadBefore = loadavg();
  const servers: Server[] = [];
  const figures = new Map<string, Figure[]>();
  const loads: number[] = [];
  const base = process.env.BENCH_BASE;
  try {
    servers.push(await startWarden('on', repo, true), await startWarden('off', repo, false));
    if (base) servers.push(await startWarden('base on', base, true), await startWarden('base off', base, false));
    if (process.env.DATABASE_URL) servers.push(await startBare('bare', false), await startBare('bare + row', true));
    const steps = servers.flatMap((server) => (Object.keys(server.cases) as Kind[]).map((kind) => ({ server, kind })));
    for (let round = 0; round <= rounds; round++) {
      // Each round in another order, so that no step always follows the same one.
      const order = steps.map((step) => ({ step, sort: Math.random() })).sort((a, b) => a.sort - b.sort).map(({ step }) => step);
      for (const { server, kind } of order) {
        const figure = await measure(server, kind);
        if (round === 0) continue; // warm-up: JIT, caches, connection pools, prepared statements
        const key = `${server.name} ${kind}`;
        figures.set(key, [...(figures.get(key) ?? []), figure]);
      }
      loads.push(loadavg()[0]);
    }
    const loadAfter = loadavg();
    console.log(`audit bench: ${rounds} interleaved rounds of ${roundSeconds} s per server and case, ${connections} connections, ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded store'}`);
    console.log(`load average (1, 5, 15 min) before ${loadBefore.map((l) => l.toFixed(1)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(1)).join(' ')}; 1-min after each round ${loads.map((l) => l.toFixed(1)).join(' ')}`);
    const total = (figure: Figure) => figure.node + figure.postgres;
    for (const [key, list] of figures) {
      const cpu = (pick: (figure: Figure) => number) => median(list.map(pick)).toFixed(0).padStart(5);
      console.log(`  ${key.padEnd(16)} ${median(list.map((f) => f.rps)).toFixed(0).padStart(6)}/s  CPU µs/request: node ${cpu((f) => f.node)}, PostgreSQL ${cpu((f) => f.postgres)}, both ${cpu(total)}  (rounds: ${list.map((f) => f.rps.toFixed(0)).join(' ')})`);
    }
    /** Throughput ratio (the median of the rounds' ratios) and CPU ratio (off's CPU per request ÷ on's). */
    const compare = (on: string, off: string, kind: Kind) => {
      const a = figures.get(`${on} ${kind}`);
      const b = figures.get(`${off} ${kind}`);
      if (!a || !b) return;
      const ratios = a.map((figure, round) => figure.rps / b[round].rps);
      const ratio = median(ratios);
      const cpuRatio = median(b.map(total)) / median(a.map(total));
      console.log(`  ${kind.padEnd(5)} ${on} ÷ ${off}: ${ratio.toFixed(2)} (rounds ${ratios.map((r) => r.toFixed(2)).join(' ')}; target >= 0.9 ${ratio >= 0.9 ? 'PASS' : 'FAIL'}); in CPU per request ${cpuRatio.toFixed(2)} (+${(median(a.map(total)) - median(b.map(total))).toFixed(0)} µs: node +${(median(a.map((f) => f.node)) - median(b.map((f) => f.node))).toFixed(0)}, PostgreSQL +${(median(a.map((f) => f.postgres)) - median(b.map((f) => f.postgres))).toFixed(0)})`);
    };
    for (const kind of ['read', 'token'] as const) {
      compare('on', 'off', kind);
      if (base) compare('base on', 'base off', kind);
      if (base) compare('on', 'base on', kind);
    }
    const bare = figures.get('bare read');
    const bareRow = figures.get('bare + row read');
    if (bare && bareRow) {
      compare('bare + row', 'bare', 'read');
      const floor = median(bareRow.map(total)) - median(bare.map(total));
      for (const kind of ['read', 'token'] as const) {
        const off = median(figures.get(`off ${kind}`)!.map(total));
        console.log(`  floor, ${kind}: Warden without auditing ${off.toFixed(0)} µs + the least row ${floor.toFixed(0)} µs → at best ${(off / (off + floor)).toFixed(2)} when CPU-bound`);
      }
    }
    for (const server of servers.filter((candidate) => candidate.name.endsWith('on'))) console.log(`  ${server.name}: AuditEvents ${await auditCounters(server)}${await batches(server)}`);
  } finally {
    for (const server of servers) {
      if (server.child.exitCode === null) await new Promise((resolve) => { server.child.once('exit', resolve); server.child.kill('SIGTERM'); });
      await server.database?.drop();
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
