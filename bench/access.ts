// Benchmark: an authorized read (GET /Patient/{id} by a Basic-auth client) with 100 AccessPolicies in the
// store, against the same read with a single `allow` policy. Target: ratio >= 0.9.
//   npx tsx bench/access.ts                 (embedded store)
//   DATABASE_URL=postgres://... npx tsx bench/access.ts   (PostgreSQL; a fresh database per server)
// The two servers run side by side and are measured in alternating rounds, so drift on a shared machine
// lands on both; each figure is the median of its rounds, the ratio the median of the rounds' ratios. The time of the decision alone is printed too.
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { decide } from '../src/access/decide.ts';
import { sqlRunner } from '../src/access/sql-runner.ts';
import { buildRequestObject } from '../src/access/request-object.ts';
import { basic, engines, startTestServer, type TestServer } from '../test/helpers/server.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = 10;
const client = { id: 'bench', secret: 'bench-secret' };

async function put(server: TestServer, path: string, body: object) {
  const response = await server.request('PUT', path, { body });
  if (response.status >= 300) throw new Error(`PUT ${path}: ${response.status} ${response.text}`);
}

/** 90 policies linked to other clients (every engine), 9 global ones that do not match, 1 that allows, last. */
function hundredPolicies(): object[] {
  const policies: object[] = [];
  for (let i = 0; i < 90; i++) {
    const link = [{ resourceType: 'Client', id: `other-${i}` }];
    const id = `p-${String(i).padStart(3, '0')}`;
    const kinds = [
      { engine: 'json-schema', schema: { properties: { 'request-method': { constant: 'get' }, uri: { pattern: `^/Observation/${i}` } } } },
      { engine: 'matcho', matcho: { 'request-method': { $enum: ['get', 'post'] }, params: { 'resource/type': 'Encounter' } } },
      { engine: 'complex', or: [{ engine: 'matcho', matcho: { uri: '#^/Group' } }, { engine: 'allow' }] },
      { engine: 'sql', sql: { query: "select {{params.resource/type}} = 'Observation'" } },
    ];
    policies.push({ id, link, ...kinds[i % kinds.length] });
  }
  for (let i = 0; i < 9; i++) {
    policies.push({ id: `g-${i}`, engine: 'matcho', matcho: { uri: `#^/Unrelated${i}/`, 'request-method': 'get' } });
  }
  policies.push({
    id: 'zz-bench-reader',
    engine: 'json-schema',
    link: [{ resourceType: 'Client', id: client.id }],
    schema: { properties: { 'request-method': { constant: 'get' }, uri: { pattern: '^/Patient/[^/]+$' } } },
  });
  return policies;
}

async function setUp(engine: ReturnType<typeof engines>[number], policies: object[]): Promise<TestServer> {
  const server = await startTestServer(engine);
  // A new store has policies of its own (the administrator's); the bench's come on top of them.
  const seeded = server.app.ctx.policies.current.all.length;
  await put(server, `/Client/${client.id}`, { resourceType: 'Client', secret: client.secret, grant_types: ['basic'] });
  await put(server, '/Patient/bench', { resourceType: 'Patient', name: [{ family: 'Bench' }] });
  for (const policy of policies) await put(server, `/AccessPolicy/${(policy as { id: string }).id}`, { resourceType: 'AccessPolicy', ...policy });
  const check = await server.request('GET', '/Patient/bench', { auth: client });
  if (check.status !== 200) throw new Error(`the bench read is not allowed: ${check.status} ${check.text}`);
  if (server.app.ctx.policies.current.all.length !== seeded + policies.length) throw new Error('not every policy compiled');
  return server;
}

async function measure(server: TestServer): Promise<number> {
  const result = await autocannon({
    url: `${server.url}/Patient/bench`,
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { authorization: basic(client.id, client.secret) },
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return result.requests.average;
}

/** The decision alone, in this process: microseconds per request, without HTTP or the store. */
async function decisionMicros(server: TestServer): Promise<number> {
  const stored = await server.app.ctx.resources.read('Client', client.id);
  const request = buildRequestObject({
    method: 'GET',
    url: '/Patient/bench',
    headers: { host: '127.0.0.1', 'user-agent': 'autocannon', authorization: 'Basic x' },
    route: '/:type/:id',
    routeParams: { type: 'Patient', id: 'bench' },
    identity: { method: 'basic', client: stored!.resource },
  });
  const runner = sqlRunner(server.app.ctx.db);
  const set = server.app.ctx.policies.current;
  const n = 20_000;
  for (let i = 0; i < n; i++) await decide(set, request, runner); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await decide(set, request, runner);
  return Number(process.hrtime.bigint() - start) / n / 1000;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** `npm run bench` calls this (add it to bench/run.ts); `npx tsx bench/access.ts` runs it alone. */
export async function run(): Promise<void> {
  const engine = process.env.DATABASE_URL ? 'postgres' : 'pglite';
  const many = await setUp(engine, hundredPolicies());
  const single = await setUp(engine, [{ id: 'allow-bench', engine: 'allow', link: [{ resourceType: 'Client', id: client.id }] }]);
  try {
    await measure(many); // warm-up, both
    await measure(single);
    const manyRuns: number[] = [];
    const singleRuns: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // ABBA order: whichever goes second in a round gains from a load that is falling, so they take turns.
      if (round % 2 === 0) {
        manyRuns.push(await measure(many));
        singleRuns.push(await measure(single));
      } else {
        singleRuns.push(await measure(single));
        manyRuns.push(await measure(many));
      }
      ratios.push(manyRuns[round] / singleRuns[round]);
    }
    const withMany = median(manyRuns);
    const withSingle = median(singleRuns);
    // The median of the rounds' own ratios: each compares two runs made seconds apart, under the same load.
    const ratio = median(ratios);
    const microsMany = await decisionMicros(many);
    const microsSingle = await decisionMicros(single);
    console.log(`access bench (${engine}, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS}s, median req/s)`);
    console.log(`  GET /Patient/{id}, 100 policies in store : ${withMany.toFixed(0)} req/s  (rounds: ${manyRuns.map((r) => r.toFixed(0)).join(', ')})`);
    console.log(`  GET /Patient/{id}, single allow policy   : ${withSingle.toFixed(0)} req/s  (rounds: ${singleRuns.map((r) => r.toFixed(0)).join(', ')})`);
    console.log(`  ratio 100 / 1 (median of rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')}): ${ratio.toFixed(3)} (target >= 0.9) ${ratio >= 0.9 ? 'PASS' : 'FAIL'}`);
    console.log(`  the decision alone: ${microsMany.toFixed(1)} us with 100 policies, ${microsSingle.toFixed(1)} us with one`);
  } finally {
    await many.close();
    await single.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
