// Issue 21's token target, measured in ONE run of interleaved rounds: client_credentials tokens per second from
// Warden, beside oidc-provider (same client, JWT access tokens, same algorithm), a bare Fastify + jose signer
// that stores nothing, and the same bare signer that also INSERTs one row per token into PostgreSQL and answers
// once it is committed (the floor for a server that stores each token's session durably), one commit per token
// and, as Warden does, one commit per batch of tokens asked for meanwhile (group commit). Every server runs in
// its own process the whole time; each round loads each of them in turn, in a new order, so the load of a
// shared machine weighs on all alike. Ratios are medians of the rounds' ratios; CPU per token counts the server's
// process and its PostgreSQL backends, which a busy machine disturbs less than throughput.
//
//   DATABASE_URL=postgres://... npx tsx bench/tokens.ts     (Warden on fresh PostgreSQL databases; else embedded)
//   BENCH_ALG=RS256 | ES256 | RS256,ES256 (default: both, in the same rounds)
//   BENCH_ROUNDS=6 BENCH_ROUND_SECONDS=3 BENCH_CONNECTIONS=16
//   BENCH_BASE=/path/to/other/checkout   also runs that checkout's Warden in the same rounds (before/after)
//   BENCH_AUDIT_OFF=1   also runs a Warden with WARDEN_AUDIT=false: what the audit trail's share is
//   BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"   node options for the Warden servers
//   BENCH_BUILT=1   runs each checkout's Warden from its dist/ build, as `npm start` does (bench/entry.ts)
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { backendPids, cpuSeconds, stealMeter } from './cpu.ts';
import { scriptArgs } from './entry.ts';
import { createTestDatabase, freePort } from '../test/helpers/server.ts';

type Alg = 'RS256' | 'ES256';
const repo = fileURLToPath(new URL('../', import.meta.url));
const algs = (process.env.BENCH_ALG ?? 'RS256,ES256').split(',').filter((alg): alg is Alg => alg === 'RS256' || alg === 'ES256');
const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const roundSeconds = Number(process.env.BENCH_ROUND_SECONDS ?? process.env.BENCH_DURATION ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const CLIENT = { id: 'bench', secret: 'bench-secret' };
const BASIC = `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`;
const FORM = { 'content-type': 'application/x-www-form-urlencoded', authorization: BASIC };
const BODY = 'grant_type=client_credentials';

interface Server {
  /** `Warden`, `base Warden`, `oidc-provider`, `bare signer`, `bare signer + PostgreSQL row` */
  peer: string;
  alg: Alg;
  url: string;
  /** Path of the token endpoint. */
  path: string;
  child: ChildProcess;
  /** Its PostgreSQL database, whose backends' CPU counts as the server's. */
  database?: string;
  drop?: () => Promise<void>;
}

const WARDEN = 'Warden';
const BASE = 'base Warden';
const NO_AUDIT = 'Warden, WARDEN_AUDIT=false';
const OIDC = 'oidc-provider';
const BARE = 'bare signer';
const BARE_PG = 'bare signer + PostgreSQL row';
const BARE_GROUP = 'bare signer + row, group commit';

async function spawnServer(peer: string, alg: Alg, script: string, cwd: string, path: string, env: Record<string, string>, database?: { url: string; drop: () => Promise<void> }): Promise<Server> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const nodeArgs = [WARDEN, BASE, NO_AUDIT].includes(peer) ? (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean) : [];
  const child = spawn(process.execPath, [...nodeArgs, ...scriptArgs(cwd, script)], {
    cwd,
    // One process each: what this benchmark compares (bench/workers.ts measures workers).
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', WARDEN_WORKERS: '1', PORT: String(port), BENCH_ALG: alg, ...env, ...(database && { DATABASE_URL: database.url }) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // oidc-provider warns of its development defaults at start; nothing else is expected.
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    if (!/oidc-provider WARNING/.test(text)) process.stderr.write(`[${peer} ${alg}] ${text}`);
  });
  const server: Server = { peer, alg, url, path, child, drop: database?.drop, database: database && new URL(database.url).pathname.slice(1) };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${peer} ${alg}: server exited with ${child.exitCode}`);
    const issued = await fetch(`${url}${path}`, { method: 'POST', headers: FORM, body: BODY }).then((response) => (response.ok ? response.json() : null), () => null);
    if (issued) {
      if ((issued as { access_token: string }).access_token.split('.').length !== 3) throw new Error(`${peer}: no JWT access token`);
      return server;
    }
    if (Date.now() > deadline) throw new Error(`${peer} ${alg}: not up in time`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function startWarden(peer: string, alg: Alg, cwd: string, env: Record<string, string> = {}): Promise<Server> {
  const database = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
  return spawnServer(peer, alg, 'src/main.ts', cwd, '/auth/token', {
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    WARDEN_ROOT_CLIENT_ID: CLIENT.id,
    WARDEN_ROOT_CLIENT_SECRET: CLIENT.secret,
    WARDEN_TOKEN_SIGNING_ALG: alg,
    ...(!database && { WARDEN_DATA_DIR: 'memory://' }),
    ...env,
  }, database);
}

async function startServers(alg: Alg): Promise<Server[]> {
  const servers = [await startWarden(WARDEN, alg, repo)];
  if (process.env.BENCH_BASE) servers.push(await startWarden(BASE, alg, process.env.BENCH_BASE));
  if (process.env.BENCH_AUDIT_OFF) servers.push(await startWarden(NO_AUDIT, alg, repo, { WARDEN_AUDIT: 'false' }));
  servers.push(await spawnServer(OIDC, alg, 'bench/peers/oidc-provider.ts', repo, '/token', {}));
  servers.push(await spawnServer(BARE, alg, 'bench/peers/bare-fastify.ts', repo, '/token', {}));
  if (process.env.DATABASE_URL) {
    servers.push(await spawnServer(BARE_PG, alg, 'bench/peers/bare-fastify.ts', repo, '/token', {}, await createTestDatabase()));
    servers.push(await spawnServer(BARE_GROUP, alg, 'bench/peers/bare-fastify.ts', repo, '/token', { BENCH_GROUP_COMMIT: '1' }, await createTestDatabase()));
  }
  return servers;
}

interface Figure {
  rps: number;
  /** CPU µs per token: the server's process plus its PostgreSQL backends. */
  cpu: number;
}

const failures: string[] = [];

async function measure(server: Server): Promise<Figure> {
  const pids = [server.child.pid!, ...(await backendPids(server.database))];
  const before = cpuSeconds(pids);
  let refused: string | undefined;
  const onResponse = (status: number, body: string) => {
    if (status >= 300) refused ??= `${status} ${body.slice(0, 300)}`;
  };
  const result = await autocannon({
    url: `${server.url}${server.path}`, connections, duration: roundSeconds,
    requests: [{ method: 'POST', headers: FORM, body: BODY, onResponse }],
  });
  if (result.non2xx + result.errors + result.timeouts > 0) {
    // Counted out of the figure and told at the end, rather than losing the run.
    const codes = Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => `${count}× ${code}`).join(', ');
    failures.push(`${server.peer} ${server.alg}: ${result.non2xx} non-2xx (${codes}; the first: ${refused}), ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  return { rps: result['2xx'] / roundSeconds, cpu: ((cpuSeconds(pids) - before) * 1e6) / Math.max(1, result.requests.total) };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** Prints each server's figures and Warden's ratios (`npm run bench -- tokens` calls this). */
export async function run(): Promise<void> {
  const loadBefore = loadavg();
  const servers: Server[] = [];
  const figures = new Map<Server, Figure[]>();
  const loads: number[] = [];
  const steal = stealMeter();
  try {
    for (const alg of algs) servers.push(...(await startServers(alg)));
    for (let round = 0; round <= rounds; round++) {
      // Each round in another order, so that no server always follows the same one.
      const order = servers.map((server) => ({ server, sort: Math.random() })).sort((a, b) => a.sort - b.sort);
      for (const { server } of order) {
        const figure = await measure(server);
        if (round === 0) continue; // warm-up: JIT, caches, connection pools, prepared statements
        figures.set(server, [...(figures.get(server) ?? []), figure]);
      }
      loads.push(loadavg()[0]);
    }
  } finally {
    for (const server of servers) {
      if (server.child.exitCode === null) await new Promise((resolve) => { server.child.once('exit', resolve); server.child.kill('SIGTERM'); });
      await server.drop?.();
    }
  }
  const loadAfter = loadavg();
  const store = process.env.DATABASE_URL ? 'PostgreSQL (its backends\' CPU counted as the server\'s)' : 'the embedded store';
  console.log(`client_credentials tokens: ${rounds} interleaved rounds of ${roundSeconds} s per server, ${connections} connections; Warden on ${store}`);
  console.log(`load average (1, 5, 15 min) before ${loadBefore.map((l) => l.toFixed(1)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(1)).join(' ')}; 1-min during the rounds ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}; CPU stolen by the hypervisor ${(steal() * 100).toFixed(1)}%`);
  for (const alg of algs) {
    const of = (peer: string) => servers.find((server) => server.alg === alg && server.peer === peer);
    for (const server of servers.filter((candidate) => candidate.alg === alg)) {
      const list = figures.get(server)!;
      console.log(`${alg} ${server.peer.padEnd(30)} ${median(list.map((f) => f.rps)).toFixed(0).padStart(6)}/s  CPU ${median(list.map((f) => f.cpu)).toFixed(0).padStart(5)} µs/token  (rounds: ${list.map((f) => f.rps.toFixed(0)).join(' ')})`);
    }
    /** The median over the rounds of (this round's `server` ÷ this round's `peer`). */
    const ratio = (server: Server, peer: Server | undefined) => {
      if (!peer) return undefined;
      const of = figures.get(peer)!;
      return median(figures.get(server)!.map((figure, index) => figure.rps / of[index].rps));
    };
    const verdict = (value: number | undefined, target?: number) =>
      value === undefined ? 'n/a' : `${value.toFixed(2)}×${target === undefined ? '' : ` (target ≥ ${target}: ${value >= target ? 'met' : 'MISSED'})`}`;
    for (const name of [WARDEN, BASE, NO_AUDIT]) {
      const warden = of(name);
      if (!warden) continue;
      console.log(`${alg} ${name} ÷ oidc-provider ${verdict(ratio(warden, of(OIDC)), 1.2)}   ÷ bare signer ${verdict(ratio(warden, of(BARE)), 0.8)}   ÷ bare signer + PostgreSQL row ${verdict(ratio(warden, of(BARE_PG)), 0.8)}   ÷ bare signer + row, group commit ${verdict(ratio(warden, of(BARE_GROUP)))}`);
      // The same comparison in CPU per token (peer's ÷ Warden's: above 1 when Warden spends less).
      const cpuRatio = (peer: Server | undefined) => (peer ? (median(figures.get(peer)!.map((f) => f.cpu)) / median(figures.get(warden)!.map((f) => f.cpu))).toFixed(2) + '×' : 'n/a');
      console.log(`${alg} ${name} CPU per token, peer's ÷ this one's: oidc-provider ${cpuRatio(of(OIDC))}   bare signer ${cpuRatio(of(BARE))}   bare signer + PostgreSQL row ${cpuRatio(of(BARE_PG))}   bare signer + row, group commit ${cpuRatio(of(BARE_GROUP))}`);
    }
    const bare = of(BARE);
    const barePg = of(BARE_PG);
    if (bare && barePg) console.log(`${alg} bare signer + PostgreSQL row ÷ bare signer ${verdict(ratio(barePg, bare))}   (what one committed row per token costs at the least)`);
    const bareGroup = of(BARE_GROUP);
    const oidc = of(OIDC);
    if (bareGroup && bare) console.log(`${alg} bare signer + row, group commit ÷ bare signer ${verdict(ratio(bareGroup, bare))}   ÷ oidc-provider ${verdict(ratio(bareGroup, oidc))}   (the most a server that commits each token's row can do here)`);
    const base = of(BASE);
    const warden = of(WARDEN);
    if (base && warden) console.log(`${alg} Warden ÷ base Warden ${verdict(ratio(warden, base))}`);
    const noAudit = of(NO_AUDIT);
    if (noAudit && warden) console.log(`${alg} Warden ÷ Warden without audit trail ${verdict(ratio(warden, noAudit))}`);
  }
  for (const failure of failures) console.log(`WARNING: ${failure}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
