// Benchmark for issue 7: API reads with an external JWT (oidc-provider, verified through a TokenIntrospector
// with a JWKS) against the same reads with a JWT Warden issued itself, in one run, on one Warden process.
// Both callers are Clients with the same AccessPolicy, so the only difference is how the token is checked.
// The two are measured in alternating rounds (ABBA), so drift on a shared machine lands on both; each figure
// is the median of its rounds, the ratio the median of the rounds' own ratios.
//
//   npx tsx bench/external.ts
//   DATABASE_URL=postgres://... npx tsx bench/external.ts        (Warden on a fresh PostgreSQL database)
//   BENCH_ROUNDS=6 BENCH_DURATION=5 BENCH_CONNECTIONS=16 npx tsx bench/external.ts
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { createTestDatabase, freePort } from '../test/helpers/server.ts';
import { EXT_APP, RESOURCE, startExternalIdp } from './peers/external-idp.ts';

const repo = fileURLToPath(new URL('../', import.meta.url));
const duration = Number(process.env.BENCH_DURATION ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ROOT = { id: 'bench-root', secret: 'bench-root-secret' };
const READER = { id: 'reader', secret: 'reader-secret' };
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;



async function startWarden(port: number, databaseUrl?: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: repo,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      WARDEN_WORKERS: '1',
      WARDEN_ROOT_CLIENT_ID: ROOT.id,
      WARDEN_ROOT_CLIENT_SECRET: ROOT.secret,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { WARDEN_DATA_DIR: 'memory://' }),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Warden exited with ${child.exitCode}`);
    if (await fetch(`http://127.0.0.1:${port}/health`).then(() => true, () => false)) return child;
    if (Date.now() > deadline) throw new Error('Warden did not start in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<any> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: basic(ROOT.id, ROOT.secret), ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function measure(url: string, name: string, token: string): Promise<{ rps: number; p99: number }> {
  const result = await autocannon({ url: `${url}/Patient/p1`, headers: { authorization: `Bearer ${token}` }, connections, duration });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  return { rps: result.requests.average, p99: result.latency.p99 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function run(): Promise<void> {
  const database = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
  const idp = await startExternalIdp(await freePort());
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const warden = await startWarden(port, database?.url);
  try {
    await call(url, 'PUT', '/Patient/p1', { resourceType: 'Patient', active: true });
    await call(url, 'PUT', '/TokenIntrospector/bench-idp', {
      resourceType: 'TokenIntrospector',
      type: 'jwt',
      jwks_uri: idp.jwksUri,
      jwt: { iss: idp.issuer, aud: RESOURCE },
    });
    await call(url, 'PUT', `/Client/${READER.id}`, { resourceType: 'Client', secret: READER.secret, grant_types: ['client_credentials'] });
    await call(url, 'PUT', `/Client/${EXT_APP.id}`, { resourceType: 'Client', grant_types: ['client_credentials'] });
    // The same policy for both callers: reads, linked to each Client.
    await call(url, 'PUT', '/AccessPolicy/bench-reads', {
      resourceType: 'AccessPolicy',
      engine: 'matcho',
      matcho: { 'request-method': 'get' },
      link: [{ resourceType: 'Client', id: READER.id }, { resourceType: 'Client', id: EXT_APP.id }],
    });
    const own = await fetch(`${url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(READER.id, READER.secret) },
      body: 'grant_type=client_credentials',
    }).then((response) => response.json() as Promise<{ access_token: string }>);
    const external = await idp.token();
    for (const token of [own.access_token, external]) {
      if (token.split('.').length !== 3) throw new Error('expected JWT access tokens');
      await call(url, 'GET', '/Patient/p1', undefined, { authorization: `Bearer ${token}` });
    }

    const ownSide = { name: 'Warden-issued JWT', token: own.access_token, rps: [] as number[], p99: [] as number[] };
    const externalSide = { name: 'external JWT (oidc-provider, JWKS)', token: external, rps: [] as number[], p99: [] as number[] };
    // Warm-up of both paths (JIT, caches, connections), not measured.
    for (const side of [ownSide, externalSide]) {
      await autocannon({ url: `${url}/Patient/p1`, headers: { authorization: `Bearer ${side.token}` }, connections, duration: 2 });
    }
    const ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      // ABBA: whichever goes second gains from a load that is falling, so they take turns.
      for (const side of round % 2 === 0 ? [ownSide, externalSide] : [externalSide, ownSide]) {
        const figure = await measure(url, side.name, side.token);
        side.rps.push(figure.rps);
        side.p99.push(figure.p99);
      }
      ratios.push(externalSide.rps[round] / ownSide.rps[round]);
    }
    console.log(`external: GET /Patient/p1 with a Bearer JWT, ${database ? 'PostgreSQL' : 'embedded store'}, ${connections} connections, ${rounds} rounds of ${duration} s, median req/s`);
    for (const side of [ownSide, externalSide]) {
      console.log(`  ${side.name.padEnd(36)} ${median(side.rps).toFixed(0).padStart(7)} req/s   p99 ${median(side.p99)} ms   (rounds: ${side.rps.map((r) => r.toFixed(0)).join(', ')})`);
    }
    console.log(`  ratio external / Warden-issued (median of rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')}): ${median(ratios).toFixed(2)}`);
  } finally {
    warden.kill('SIGTERM');
    await new Promise((resolve) => warden.once('exit', resolve));
    await idp.close();
    await database?.drop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
