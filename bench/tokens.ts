// Benchmark for issue 3: client_credentials tokens per second and Basic-auth reads per second, Warden side by
// side with oidc-provider (same client, same JWT access tokens, same signing algorithm) and with a bare
// Fastify that only does the work itself. Each server runs alone in its own process while autocannon loads it.
//
//   npx tsx bench/tokens.ts                 (Warden on the embedded store)
//   DATABASE_URL=postgres://... npx tsx bench/tokens.ts   (Warden on a fresh PostgreSQL database)
//   BENCH_ALG=ES256 BENCH_DURATION=10 BENCH_CONNECTIONS=16 npx tsx bench/tokens.ts
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { backendPids, cpuSeconds } from './cpu.ts';
import { createTestDatabase, freePort } from '../test/helpers/server.ts';

const repo = fileURLToPath(new URL('../', import.meta.url));
const alg = process.env.BENCH_ALG === 'ES256' ? 'ES256' : 'RS256';
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const CLIENT = { id: 'bench', secret: 'bench-secret' };
const BASIC = `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`;
const FORM = { 'content-type': 'application/x-www-form-urlencoded', authorization: BASIC };

interface Load {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

interface Started {
  child: ChildProcess;
  cleanup?: () => Promise<void>;
  /** The server's PostgreSQL backends, whose CPU counts as the server's. */
  database?: string;
}

interface Peer {
  name: string;
  start(port: number): Promise<Started>;
  /** Ready to be measured: returns the two requests to load it with. */
  prepare(url: string): Promise<{ token: Load; read: Load; bearer?: Load }>;
}


function spawnNode(script: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: repo,
    // One process each: what these benchmarks compare (bench/workers.ts measures workers).
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', WARDEN_WORKERS: '1', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${url}: server exited with ${child.exitCode}`);
    if (await fetch(url).then(() => true, () => false)) return;
    if (Date.now() > deadline) throw new Error(`${url}: not up in time`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}


async function expectOk(response: Response, what: string): Promise<any> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${what}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

const warden: Peer = {
  name: 'Warden',
  async start(port) {
    const database = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
    const child = spawnNode('src/main.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      WARDEN_ROOT_CLIENT_ID: CLIENT.id,
      WARDEN_ROOT_CLIENT_SECRET: CLIENT.secret,
      WARDEN_TOKEN_SIGNING_ALG: alg,
      ...(database ? { DATABASE_URL: database.url } : { WARDEN_DATA_DIR: 'memory://' }),
    });
    await waitFor(`http://127.0.0.1:${port}/health`, child);
    return { child, cleanup: database?.drop, database: database && new URL(database.url).pathname.slice(1) };
  },
  async prepare(url) {
    await expectOk(await fetch(`${url}/Patient/p1`, { method: 'PUT', headers: { authorization: BASIC, 'content-type': 'application/json' }, body: JSON.stringify({ resourceType: 'Patient', id: 'p1', active: true }) }), 'create Patient');
    const token = { method: 'POST' as const, path: '/auth/token', headers: FORM, body: 'grant_type=client_credentials' };
    const read = { method: 'GET' as const, path: '/Patient/p1', headers: { authorization: BASIC } };
    const issued = await expectOk(await fetch(`${url}/auth/token`, { method: 'POST', headers: FORM, body: 'grant_type=client_credentials' }), 'Warden token');
    // The same read with a Bearer JWT: what verifying the token and reading its Session on every request costs.
    const bearer = { method: 'GET' as const, path: '/Patient/p1', headers: { authorization: `Bearer ${issued.access_token}` } };
    return { token, read, bearer };
  },
};

const oidcProvider: Peer = {
  name: 'oidc-provider',
  async start(port) {
    const child = spawnNode('bench/peers/oidc-provider.ts', { PORT: String(port), BENCH_ALG: alg });
    await waitFor(`http://127.0.0.1:${port}/.well-known/openid-configuration`, child);
    return { child };
  },
  async prepare(url) {
    const issued = await expectOk(await fetch(`${url}/token`, { method: 'POST', headers: FORM, body: 'grant_type=client_credentials' }), 'oidc-provider token');
    if (issued.access_token.split('.').length !== 3) throw new Error('oidc-provider did not issue a JWT access token');
    const token = { method: 'POST' as const, path: '/token', headers: FORM, body: 'grant_type=client_credentials' };
    const read = { method: 'POST' as const, path: '/token/introspection', headers: FORM, body: `token=${issued.access_token}` };
    return { token, read };
  },
};

const bareFastify: Peer = {
  name: 'bare Fastify + jose',
  async start(port) {
    const child = spawnNode('bench/peers/bare-fastify.ts', { PORT: String(port), BENCH_ALG: alg });
    await waitFor(`http://127.0.0.1:${port}/read`, child);
    return { child };
  },
  async prepare() {
    const token = { method: 'POST' as const, path: '/token', headers: FORM, body: 'grant_type=client_credentials' };
    const read = { method: 'GET' as const, path: '/read', headers: { authorization: BASIC } };
    return { token, read };
  },
};

interface Measured {
  rps: number;
  errors: number;
  p99: number;
  /** CPU microseconds the server (and its PostgreSQL backends) spent per request: steadier than rps on a shared machine. */
  cpuPerRequest: number;
}

async function load(url: string, request: Load, seconds: number, server?: Started): Promise<Measured> {
  const pids = server ? [server.child.pid!, ...(await backendPids(server.database))] : [];
  const cpuBefore = cpuSeconds(pids);
  const result = await autocannon({
    url: `${url}${request.path}`,
    method: request.method,
    headers: request.headers,
    body: request.body,
    connections,
    duration: seconds,
  });
  const cpuPerRequest = ((cpuSeconds(pids) - cpuBefore) * 1e6) / Math.max(1, result.requests.total);
  return { rps: result.requests.average, errors: result.non2xx + result.errors + result.timeouts, p99: result.latency.p99, cpuPerRequest };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Measures the three servers one after the other and prints the figures and ratios (`npm run bench` calls this). */
export async function run(): Promise<void> {
  const figures: Record<string, { token: Measured; read: Measured }> = {};
  const line = (name: string, what: string, m: Measured) =>
    `${name.padEnd(22)} ${what.padEnd(18)} ${m.rps.toFixed(0).padStart(6)}/s  p99 ${String(m.p99).padStart(4)} ms  CPU ${m.cpuPerRequest.toFixed(0).padStart(5)} µs/request  non-2xx ${m.errors}`;
  for (const peer of [warden, oidcProvider, bareFastify]) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = await peer.start(port);
    try {
      const requests = await peer.prepare(url);
      await load(url, requests.token, 2); // warm-up: JIT, caches, connection pools
      const token = await load(url, requests.token, duration, server);
      await load(url, requests.read, 2);
      const read = await load(url, requests.read, duration, server);
      figures[peer.name] = { token, read };
      console.log(line(peer.name, 'tokens', token));
      console.log(line(peer.name, 'Basic reads', read));
      if (requests.bearer) {
        await load(url, requests.bearer, 2);
        console.log(line(peer.name, 'Bearer JWT reads', await load(url, requests.bearer, duration, server)));
      }
    } finally {
      await stop(server.child);
      await server.cleanup?.();
    }
  }

  const w = figures.Warden;
  const o = figures['oidc-provider'];
  const b = figures['bare Fastify + jose'];
  const store = process.env.DATABASE_URL ? 'PostgreSQL (its backends\' CPU counted as Warden\'s)' : 'PGlite (embedded)';
  console.log(`\nWarden on ${store}; ${alg} JWT access tokens; ${connections} connections, ${duration} s per figure`);
  console.log('oidc-provider\'s Basic read is its introspection endpoint (client_secret_basic); Warden\'s is GET /Patient/p1; bare Fastify\'s checks the secret and sends JSON');
  const verdict = (ratio: number, target: number) => `${ratio.toFixed(2)}× (target ≥ ${target}×: ${ratio >= target ? 'met' : 'MISSED'})`;
  for (const [what, kind] of [['client_credentials', 'token'], ['Basic-auth reads  ', 'read']] as const) {
    console.log(`${what}  throughput: Warden / oidc-provider = ${verdict(w[kind].rps / o[kind].rps, 2)}   Warden / bare Fastify = ${verdict(w[kind].rps / b[kind].rps, 0.7)}`);
    console.log(`${what}  CPU per request, peer / Warden: oidc-provider ${(o[kind].cpuPerRequest / w[kind].cpuPerRequest).toFixed(2)}×   bare Fastify ${(b[kind].cpuPerRequest / w[kind].cpuPerRequest).toFixed(2)}×`);
  }
  if ([w, o, b].some((figure) => figure.token.errors + figure.read.errors > 0)) console.log('WARNING: some responses were not 2xx; the figures above count them');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
