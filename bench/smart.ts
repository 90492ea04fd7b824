// Benchmark: a patient-scoped search (a SMART `patient/*.read` token from a standalone launch) against the same
// search with a `system/*.read` token (backend services), on one server, in one run.
//   npx tsx bench/smart.ts                                (embedded store)
//   DATABASE_URL=postgres://... npx tsx bench/smart.ts   (PostgreSQL; a fresh database)
// The search, `GET /Observation?patient={id}&_count=20`, finds the same 20 Observations with either token; the
// patient token adds the SMART work: its Session's launch context, the scope decision, and the compartment
// condition on the query. Measured in alternating rounds (ABBA); figures are medians of the rounds.
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { startTestServer, type TestServer } from '../test/helpers/server.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = 10;
const PATIENTS = Number(process.env.BENCH_PATIENTS ?? 100);
const OBSERVATIONS_EACH = 20;
const CALLBACK = 'https://bench-app.example/callback';
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

async function seed(server: TestServer) {
  const { resources } = server.app.ctx;
  for (let p = 0; p < PATIENTS; p++) {
    await resources.write({ resourceType: 'Patient', id: `pt-${p}`, name: [{ family: `Family${p}`, given: ['Bench'] }] }, null);
    for (let o = 0; o < OBSERVATIONS_EACH; o++) {
      await resources.write(
        {
          resourceType: 'Observation',
          id: `obs-${p}-${o}`,
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
          subject: { reference: `Patient/pt-${p}` },
          valueQuantity: { value: 60 + o, unit: '/min' },
        },
        null,
      );
    }
  }
}

async function put(server: TestServer, resource: { resourceType: string; id: string; [key: string]: unknown }) {
  const response = await server.request('PUT', `/${resource.resourceType}/${resource.id}`, { body: resource });
  if (response.status >= 300) throw new Error(`PUT ${resource.resourceType}/${resource.id}: ${response.text}`);
}

async function form(url: string, body: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body) });
}

/** A system/*.read token from client_credentials with an RS384 client assertion (SMART Backend Services). */
async function systemToken(server: TestServer): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair('RS384');
  await put(server, { resourceType: 'Client', id: 'bench-backend', grant_types: ['client_credentials'], jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS384' }] }, scope: ['system/*.read'] });
  await put(server, { resourceType: 'AccessPolicy', id: 'bench-backend-smart', engine: 'smart-on-fhir', link: [{ resourceType: 'Client', id: 'bench-backend' }] });
  const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'RS384', kid: 'k1' }).setIssuer('bench-backend').setSubject('bench-backend')
    .setAudience(`${server.url}/auth/token`).setJti(randomUUID()).setExpirationTime('5m').sign(privateKey);
  const response = await form(`${server.url}/auth/token`, {
    grant_type: 'client_credentials', scope: 'system/*.read',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion,
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`system token: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** A patient/*.read token for pt-0 from a standalone launch by a patient user (login, code, PKCE exchange). */
async function patientToken(server: TestServer): Promise<string> {
  await put(server, { resourceType: 'User', id: 'bench-patient', email: 'bench@example.com', password: 'bench password 1', fhirUser: { reference: 'Patient/pt-0' } });
  await put(server, { resourceType: 'Client', id: 'bench-app', first_party: true, grant_types: ['authorization_code'], auth: { authorization_code: { redirect_uri: CALLBACK } }, scope: ['launch/patient', 'patient/*.read'] });
  await put(server, { resourceType: 'AccessPolicy', id: 'bench-app-smart', engine: 'smart-on-fhir', link: [{ resourceType: 'Client', id: 'bench-app' }] });
  const authorize = `/auth/authorize?${new URLSearchParams({ response_type: 'code', client_id: 'bench-app', redirect_uri: CALLBACK, scope: 'launch/patient patient/*.read', state: 'bench-state', aud: server.url, code_challenge: CHALLENGE, code_challenge_method: 'S256' })}`;
  const cookies = new Map<string, string>();
  const remember = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return response;
  };
  const cookie = () => [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  const toLogin = remember(await fetch(`${server.url}${authorize}`, { redirect: 'manual' }));
  const loginPage = remember(await fetch(`${server.url}${toLogin.headers.get('location')}`, { headers: { cookie: cookie() } }));
  const html = await loginPage.text();
  const hidden = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [m[1], m[2].replace(/&amp;/g, '&')]));
  const loggedIn = remember(await form(`${server.url}/auth/login`, { ...hidden, username: 'bench@example.com', password: 'bench password 1' }, { cookie: cookie() }));
  const back = remember(await fetch(`${server.url}${loggedIn.headers.get('location')}`, { redirect: 'manual', headers: { cookie: cookie() } }));
  const code = new URL(back.headers.get('location') ?? 'x:/').searchParams.get('code');
  if (!code) throw new Error(`no code: ${back.status} ${back.headers.get('location')}`);
  const token = await form(`${server.url}/auth/token`, { grant_type: 'authorization_code', code, client_id: 'bench-app', redirect_uri: CALLBACK, code_verifier: VERIFIER });
  const body = (await token.json()) as { access_token?: string; patient?: string };
  if (!body.access_token || body.patient !== 'pt-0') throw new Error(`patient token: ${JSON.stringify(body)}`);
  return body.access_token;
}

const SEARCH = '/Observation?patient=pt-0&_count=20';

async function check(server: TestServer, token: string) {
  const response = await server.request('GET', SEARCH, { auth: null, headers: { authorization: `Bearer ${token}` } });
  if (response.status !== 200 || response.body.entry?.length !== OBSERVATIONS_EACH) throw new Error(`search: ${response.status} ${response.text.slice(0, 300)}`);
}

async function measure(server: TestServer, token: string): Promise<number> {
  const result = await autocannon({ url: `${server.url}${SEARCH}`, connections: CONNECTIONS, duration: SECONDS, headers: { authorization: `Bearer ${token}` } });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return result.requests.average;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Prints both figures and their ratio; exported for bench/run.ts, and run when this file is run alone. */
export async function run(): Promise<void> {
  const engine = process.env.DATABASE_URL ? 'postgres' : 'pglite';
  const server = await startTestServer(engine);
  try {
    await seed(server);
    const system = await systemToken(server);
    const patient = await patientToken(server);
    await check(server, system);
    await check(server, patient);
    await measure(server, patient); // warm-up, both
    await measure(server, system);
    const patientRuns: number[] = [];
    const systemRuns: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        patientRuns.push(await measure(server, patient));
        systemRuns.push(await measure(server, system));
      } else {
        systemRuns.push(await measure(server, system));
        patientRuns.push(await measure(server, patient));
      }
      ratios.push(patientRuns[round] / systemRuns[round]);
    }
    console.log(`smart bench (${engine}, ${PATIENTS} patients x ${OBSERVATIONS_EACH} Observations, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS}s, median req/s)`);
    console.log(`  GET ${SEARCH}, patient/*.read token : ${median(patientRuns).toFixed(0)} req/s  (rounds: ${patientRuns.map((r) => r.toFixed(0)).join(', ')})`);
    console.log(`  GET ${SEARCH}, system/*.read token  : ${median(systemRuns).toFixed(0)} req/s  (rounds: ${systemRuns.map((r) => r.toFixed(0)).join(', ')})`);
    console.log(`  ratio patient / system (median of rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')}): ${median(ratios).toFixed(3)}`);
  } finally {
    await server.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await run();
