// Benchmark for issue 17: what the audit trail costs. Authorized Bearer reads (GET /Patient/{id}, one
// PatientRead event each) and token issuance (client_credentials), on a server auditing and on one that does
// not. Target: each ratio (on / off) >= 0.9.
//   npx tsx bench/audit.ts                 (embedded store)
//   DATABASE_URL=postgres://... npx tsx bench/audit.ts   (PostgreSQL; a fresh database per server)
// Both servers run side by side and are measured in alternating rounds (ABBA), so the drift of a shared machine
// lands on both; each figure is the median of its rounds, the ratio the median of the rounds' own ratios. The
// load average is printed with each round: on a busy machine the figures say less.
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { loadConfig } from '../src/config.ts';
import { basic, startTestServer, type TestServer } from '../test/helpers/server.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = 10;
const client = { id: 'bench', secret: 'bench-secret-0123456789' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.id, client.secret) };

interface Target {
  server: TestServer;
  token: string;
}

async function setUp(auditing: boolean): Promise<Target> {
  const engine = process.env.DATABASE_URL ? 'postgres' : 'pglite';
  const server = await startTestServer(engine, { audit: { ...loadConfig({}).audit, enabled: auditing } });
  const put = async (path: string, body: object) => {
    const response = await server.request('PUT', path, { body });
    if (response.status >= 300) throw new Error(`PUT ${path}: ${response.status} ${response.text}`);
  };
  await put(`/Client/${client.id}`, { resourceType: 'Client', secret: client.secret, grant_types: ['client_credentials'] });
  await put('/AccessPolicy/bench', { resourceType: 'AccessPolicy', engine: 'allow', link: [{ resourceType: 'Client', id: client.id }] });
  await put('/Patient/bench', { resourceType: 'Patient', name: [{ family: 'Bench' }] });
  const issued = await fetch(`${server.url}/auth/token`, { method: 'POST', headers: FORM, body: 'grant_type=client_credentials' });
  if (issued.status !== 200) throw new Error(`token: ${issued.status} ${await issued.text()}`);
  const { access_token: token } = (await issued.json()) as { access_token: string };
  return { server, token };
}

type Kind = 'read' | 'token';

async function measure(target: Target, kind: Kind): Promise<number> {
  const result = await autocannon({
    url: kind === 'read' ? `${target.server.url}/Patient/bench` : `${target.server.url}/auth/token`,
    connections: CONNECTIONS,
    duration: SECONDS,
    ...(kind === 'read'
      ? { headers: { authorization: `Bearer ${target.token}` } }
      : { method: 'POST' as const, headers: FORM, body: 'grant_type=client_credentials' }),
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${kind}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return result.requests.average;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const load = () => loadavg()[0].toFixed(1);

async function compare(on: Target, off: Target, kind: Kind, label: string): Promise<void> {
  await measure(on, kind); // warm-up, both
  await measure(off, kind);
  const onRuns: number[] = [];
  const offRuns: number[] = [];
  const ratios: number[] = [];
  const loads: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      onRuns.push(await measure(on, kind));
      offRuns.push(await measure(off, kind));
    } else {
      offRuns.push(await measure(off, kind));
      onRuns.push(await measure(on, kind));
    }
    ratios.push(onRuns[round] / offRuns[round]);
    loads.push(load());
  }
  const ratio = median(ratios);
  console.log(`  ${label}, auditing on : ${median(onRuns).toFixed(0)} req/s  (rounds: ${onRuns.map((r) => r.toFixed(0)).join(', ')})`);
  console.log(`  ${label}, auditing off: ${median(offRuns).toFixed(0)} req/s  (rounds: ${offRuns.map((r) => r.toFixed(0)).join(', ')})`);
  console.log(`  ratio on / off (rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')}): ${ratio.toFixed(3)} (target >= 0.9) ${ratio >= 0.9 ? 'PASS' : 'FAIL'}`);
  console.log(`  load average after each round: ${loads.join(', ')}`);
}

/** `npm run bench -- audit`; `npx tsx bench/audit.ts` runs it alone. */
export async function run(): Promise<void> {
  const on = await setUp(true);
  const off = await setUp(false);
  try {
    console.log(`audit bench (${process.env.DATABASE_URL ? 'postgres' : 'pglite'}, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS}s, median req/s, load average ${load()})`);
    await compare(on, off, 'read', 'Bearer GET /Patient/{id}');
    await compare(on, off, 'token', 'POST /auth/token client_credentials');
    await on.server.app.audit.flush();
    const [{ n }] = await on.server.app.ctx.db.query<{ n: number }>(`select count(*)::int as n from resource where type = 'AuditEvent'`);
    console.log(`  AuditEvents written by the auditing server: ${n}; queue left: ${on.server.app.audit.queued}`);
  } finally {
    await on.server.close();
    await off.server.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
