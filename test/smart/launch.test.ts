// SMART launch over real HTTP: standalone launch with the patient picker, a patient's own launch, EHR launch
// with a minted context, the token response's context, patient confinement, refresh, and the negative cases.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { CookieBrowser, hiddenFields, pkcePair } from '../helpers/browser.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { bearer, ids, put, seedClinicalData, clinicianPolicyFor, smartPolicyFor, tokenRequest } from './fixtures.ts';
import { authorizeInBrowser, smartAuthorizePath } from './browser-launch.ts';

const { verifier, challenge } = pkcePair();
const CALLBACK = 'https://growth.example/callback';
const PRACTITIONER = { id: 'dr-grey', email: 'grey@example.com', password: 'practitioner password 1' };
const PATIENT_USER = { id: 'ada', email: 'ada@example.com', password: 'patient password 1' };

for (const engine of engines()) {
  describe(`SMART launch (${engine})`, () => {
    let server: TestServer;
    const authorizePath = (params: Record<string, string>) =>
      smartAuthorizePath(server.url, { client_id: 'growth-chart', redirect_uri: CALLBACK, code_challenge: challenge, ...params });

    before(async () => {
      server = await startTestServer(engine);
      await seedClinicalData(server);
      await put(server, { resourceType: 'Practitioner', id: 'prac-1', name: [{ family: 'Grey' }] } as never);
      await put(server, { resourceType: 'User', id: PRACTITIONER.id, email: PRACTITIONER.email, password: PRACTITIONER.password, fhirUser: { reference: 'Practitioner/prac-1' } } as never);
      await put(server, { resourceType: 'User', id: PATIENT_USER.id, email: PATIENT_USER.email, password: PATIENT_USER.password, fhirUser: { reference: 'Patient/pat-a' } } as never);
      await put(server, {
        resourceType: 'Client',
        id: 'growth-chart',
        name: 'Growth Chart',
        grant_types: ['authorization_code', 'refresh_token'],
        smart: { launch_uri: 'https://growth.example/launch' },
        auth: { authorization_code: { redirect_uri: CALLBACK, refresh_token: true } },
        scope: ['launch', 'launch/patient', 'launch/encounter', 'openid', 'fhirUser', 'offline_access', 'patient/*.rs', 'patient/Observation.cruds', 'user/*.rs'],
      } as never);
      await smartPolicyFor(server, 'growth-chart');
      await clinicianPolicyFor(server, PRACTITIONER.id);
    });
    after(() => server.close());

    /** Signs in and answers consent (and the picker, choosing `patient`) until the redirect with the code. */
    const authorize = (browser: CookieBrowser, params: Record<string, string>, login = PRACTITIONER, patient?: string) =>
      authorizeInBrowser(browser, authorizePath(params), login, patient ? { patient } : {});

    async function codeFor(params: Record<string, string>, login = PRACTITIONER, patient?: string) {
      const response = await authorize(new CookieBrowser(server.url), params, login, patient);
      assert.equal(response.status, 303, response.text);
      const redirect = new URL(response.location!);
      assert.equal(`${redirect.origin}${redirect.pathname}`, CALLBACK, response.location!);
      const code = redirect.searchParams.get('code');
      assert.ok(code, response.location!);
      return code;
    }

    const exchange = (code: string) =>
      tokenRequest(server, { grant_type: 'authorization_code', code, client_id: 'growth-chart', redirect_uri: CALLBACK, code_verifier: verifier });

    test('discovery lists the launch and context capabilities these tests exercise', async () => {
      const { body } = await server.request('GET', '/.well-known/smart-configuration', { auth: null });
      for (const capability of ['launch-standalone', 'launch-ehr', 'context-standalone-patient', 'context-ehr-patient', 'context-ehr-encounter']) {
        assert.ok(body.capabilities.includes(capability), capability);
      }
    });

    test('standalone launch: the picker lists the patients and the chosen one is in the token response', async () => {
      const browser = new CookieBrowser(server.url);
      const first = await browser.get(authorizePath({ scope: 'launch/patient openid fhirUser patient/*.rs' }));
      const loginPage = await browser.get(first.location!);
      let response = await browser.post('/auth/login', { ...hiddenFields(loginPage.text), username: PRACTITIONER.email, password: PRACTITIONER.password });
      response = await browser.get(response.location!);
      response = await browser.post('/auth/authorize', { ...hiddenFields(response.text), decision: 'allow' });
      assert.equal(response.status, 200, response.text);
      assert.match(response.text, /Choose the patient/);
      assert.match(response.text, /Ada Ames/);
      assert.match(response.text, /Bob Brook/);
      const form = hiddenFields(response.text.slice(response.text.indexOf('method="post"')));
      response = await browser.post('/auth/authorize', { ...form, smart_patient: 'pat-a' });
      assert.equal(response.status, 303, response.text);
      const code = new URL(response.location!).searchParams.get('code')!;
      const token = await exchange(code);
      assert.equal(token.status, 200, JSON.stringify(token.body));
      assert.equal(token.body.patient, 'pat-a');
      assert.equal(token.body.need_patient_banner, true);
      assert.equal(token.body.smart_style_url, `${server.url}/smart-style.json`);
      assert.equal(token.body.scope, 'launch/patient openid fhirUser patient/*.rs');
      const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
      const { payload } = await jwtVerify(token.body.id_token, jwks, { issuer: server.url, audience: 'growth-chart' });
      assert.equal(payload.fhirUser, `${server.url}/Practitioner/prac-1`);
    });

    test('the picker refuses a choice posted without its CSRF token', async () => {
      const browser = new CookieBrowser(server.url);
      await authorize(browser, { scope: 'launch/patient patient/*.rs' }).catch(() => undefined);
      const forged = await browser.post('/auth/authorize', {
        response_type: 'code', client_id: 'growth-chart', redirect_uri: CALLBACK, state: 'st-1', aud: server.url,
        code_challenge: challenge, code_challenge_method: 'S256', scope: 'launch/patient patient/*.rs', smart_patient: 'pat-b',
      });
      assert.equal(forged.status, 303);
      const redirect = new URL(forged.location!);
      assert.equal(redirect.searchParams.get('error'), 'invalid_request');
      assert.equal(redirect.searchParams.get('code'), null);
    });

    test("a patient-scoped token sees its patient's data and nothing of another patient", async () => {
      const code = await codeFor({ scope: 'launch/patient patient/*.rs' }, PRACTITIONER, 'pat-a');
      const { body } = await exchange(code);
      const token = body.access_token as string;
      assert.equal((await bearer(server, token, 'GET', '/Patient/pat-a')).status, 200);
      assert.equal((await bearer(server, token, 'GET', '/Patient/pat-b')).status, 404);
      assert.equal((await bearer(server, token, 'GET', '/Observation/obs-b-lab')).status, 404);
      const all = await bearer(server, token, 'GET', '/Observation');
      assert.equal(all.status, 200, all.text);
      assert.deepEqual(ids(all.body), ['obs-a-lab', 'obs-a-vital']);
      const other = await bearer(server, token, 'GET', '/Observation?patient=pat-b');
      assert.equal(other.status, 200);
      assert.deepEqual(ids(other.body), []);
      const patients = await bearer(server, token, 'GET', '/Patient');
      assert.deepEqual(ids(patients.body), ['pat-a']);
      assert.deepEqual(ids((await bearer(server, token, 'GET', '/Encounter')).body), ['enc-a']);
    });

    test('a patient-scoped read token cannot write, even in its own compartment', async () => {
      const code = await codeFor({ scope: 'launch/patient patient/*.rs' }, PRACTITIONER, 'pat-a');
      const { body } = await exchange(code);
      const created = await bearer(server, body.access_token, 'POST', '/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/pat-a' } });
      assert.equal(created.status, 403);
    });

    test("a patient-scoped write token writes in its patient's compartment and nowhere else", async () => {
      const code = await codeFor({ scope: 'launch/patient patient/Observation.cruds' }, PRACTITIONER, 'pat-a');
      const { body } = await exchange(code);
      const token = body.access_token as string;
      const mine = { resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: 'Patient/pat-a' } };
      const created = await bearer(server, token, 'POST', '/Observation', mine);
      assert.equal(created.status, 201, created.text);
      const theirs = await bearer(server, token, 'POST', '/Observation', { ...mine, subject: { reference: 'Patient/pat-b' } });
      assert.equal(theirs.status, 403, theirs.text);
      const moved = await bearer(server, token, 'PUT', `/Observation/${created.body.id}`, { ...mine, id: created.body.id, subject: { reference: 'Patient/pat-b' } });
      assert.equal(moved.status, 403, 'an update may not move a resource out of the compartment');
      const patched = await server.request('PATCH', `/Observation/${created.body.id}`, {
        auth: null,
        headers: { authorization: `Bearer ${token}` },
        raw: JSON.stringify([{ op: 'replace', path: '/subject/reference', value: 'Patient/pat-b' }]),
        contentType: 'application/json-patch+json',
      });
      assert.equal(patched.status, 403, 'nor may a patch');
      assert.equal((await bearer(server, token, 'PUT', '/Observation/obs-b-lab', { ...mine, id: 'obs-b-lab' })).status, 404);
      assert.equal((await bearer(server, token, 'DELETE', '/Observation/obs-b-lab')).status, 404);
      assert.equal((await server.request('GET', '/Observation/obs-b-lab')).body.subject.reference, 'Patient/pat-b', 'untouched');
      assert.equal((await bearer(server, token, 'DELETE', `/Observation/${created.body.id}`)).status, 200, 'its own may be deleted');
    });

    test('a patient user launches on their own record without a picker', async () => {
      const code = await codeFor({ scope: 'launch/patient openid fhirUser patient/Observation.rs' }, PATIENT_USER);
      const token = await exchange(code);
      assert.equal(token.status, 200, JSON.stringify(token.body));
      assert.equal(token.body.patient, 'pat-a');
      const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
      const { payload } = await jwtVerify(token.body.id_token, jwks, { issuer: server.url, audience: 'growth-chart' });
      assert.equal(payload.fhirUser, `${server.url}/Patient/pat-a`);
      assert.equal((await bearer(server, token.body.access_token, 'GET', '/Patient/pat-a')).status, 403, 'Patient is not in the granted scopes');
    });

    test('EHR launch: a minted launch value brings its patient and encounter into the token response', async () => {
      const minted = await server.request('POST', '/auth/launch', { body: { patient: 'pat-b', encounter: 'enc-a', client: 'growth-chart' } });
      assert.equal(minted.status, 201, minted.text);
      assert.equal(typeof minted.body.launch, 'string');
      const launchUrl = new URL(minted.body.launch_url);
      assert.equal(launchUrl.searchParams.get('iss'), server.url);
      assert.equal(launchUrl.searchParams.get('launch'), minted.body.launch);
      const code = await codeFor({ scope: 'launch openid fhirUser patient/*.rs', launch: minted.body.launch });
      const token = await exchange(code);
      assert.equal(token.status, 200, JSON.stringify(token.body));
      assert.equal(token.body.patient, 'pat-b');
      assert.equal(token.body.encounter, 'enc-a');
      assert.equal(token.body.need_patient_banner, false);
      assert.deepEqual(ids((await bearer(server, token.body.access_token, 'GET', '/Observation')).body), ['obs-b-lab', 'obs-b-vital']);
    });

    test("a patient user cannot open another patient's record through an EHR launch", async () => {
      const minted = await server.request('POST', '/auth/launch', { body: { patient: 'pat-b', client: 'growth-chart' } });
      const response = await authorize(new CookieBrowser(server.url), { scope: 'launch patient/*.rs', launch: minted.body.launch }, PATIENT_USER);
      assert.equal(response.status, 303);
      assert.equal(new URL(response.location!).searchParams.get('error'), 'access_denied');
    });

    test('a launch made for one user is refused to another, and works for that user', async () => {
      const minted = await server.request('POST', '/auth/launch', { body: { patient: 'pat-b', client: 'growth-chart', user: PRACTITIONER.id } });
      assert.equal(minted.status, 201, minted.text);
      const stranger = await authorize(new CookieBrowser(server.url), { scope: 'launch patient/*.rs', launch: minted.body.launch }, PATIENT_USER);
      assert.equal(new URL(stranger.location!).searchParams.get('error'), 'access_denied');
      const token = await exchange(await codeFor({ scope: 'launch patient/*.rs', launch: minted.body.launch }));
      assert.equal(token.status, 200, JSON.stringify(token.body));
      assert.equal(token.body.patient, 'pat-b');
      assert.equal(token.body.user, undefined, 'the launch user is not sent to the app');
      const unknownUser = await server.request('POST', '/auth/launch', { body: { patient: 'pat-b', user: 'nobody' } });
      assert.equal(unknownUser.status, 422);
    });

    test('an unknown launch value is refused at the redirect URI', async () => {
      const response = await authorize(new CookieBrowser(server.url), { scope: 'launch patient/*.rs', launch: 'no-such-launch' });
      assert.equal(response.status, 303);
      assert.equal(new URL(response.location!).searchParams.get('error'), 'invalid_request');
    });

    test('a launch value minted for another client is refused', async () => {
      await put(server, { resourceType: 'Client', id: 'other-app', grant_types: ['authorization_code'] } as never);
      const minted = await server.request('POST', '/auth/launch', { body: { patient: 'pat-a', client: 'other-app' } });
      const response = await authorize(new CookieBrowser(server.url), { scope: 'launch patient/*.rs', launch: minted.body.launch });
      assert.equal(new URL(response.location!).searchParams.get('error'), 'invalid_request');
    });

    test('a wrong aud is refused before anything is asked of the user', async () => {
      const browser = new CookieBrowser(server.url);
      const response = await browser.get(authorizePath({ scope: 'launch/patient patient/*.rs', aud: 'https://evil.example/fhir' }));
      assert.equal(response.status, 303);
      const redirect = new URL(response.location!);
      assert.equal(`${redirect.origin}${redirect.pathname}`, CALLBACK);
      assert.equal(redirect.searchParams.get('error'), 'invalid_request');
      assert.match(redirect.searchParams.get('error_description')!, /aud/);
    });

    test('refresh keeps the patient and may narrow the scopes but never widen them', async () => {
      const code = await codeFor({ scope: 'launch/patient offline_access patient/*.rs' }, PRACTITIONER, 'pat-a');
      const first = await exchange(code);
      assert.ok(first.body.refresh_token, JSON.stringify(first.body));
      const wider = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: 'growth-chart', scope: 'patient/*.cruds' });
      assert.equal(wider.status, 400);
      assert.equal(wider.body.error, 'invalid_scope');
      const userScope = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: 'growth-chart', scope: 'user/*.rs' });
      assert.equal(userScope.body.error, 'invalid_scope');
      const narrower = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: 'growth-chart', scope: 'patient/Observation.rs' });
      assert.equal(narrower.status, 200, JSON.stringify(narrower.body));
      assert.equal(narrower.body.scope, 'patient/Observation.rs');
      assert.equal(narrower.body.patient, 'pat-a');
      assert.equal((await bearer(server, narrower.body.access_token, 'GET', '/Patient/pat-a')).status, 403);
      assert.deepEqual(ids((await bearer(server, narrower.body.access_token, 'GET', '/Observation')).body), ['obs-a-lab', 'obs-a-vital']);
    });

    test('introspection reports the launch context and fhirUser, as SMART 2.x asks (last: it gives the app a secret)', async () => {
      const fhirContext = [{ reference: 'Observation/obs-a-lab' }];
      const minted = await server.request('POST', '/auth/launch', { body: { patient: 'pat-a', encounter: 'enc-a', client: 'growth-chart', fhirContext } });
      assert.equal(minted.status, 201, minted.text);
      const code = await codeFor({ scope: 'launch openid fhirUser offline_access patient/*.rs', launch: minted.body.launch }, PATIENT_USER);
      const token = await exchange(code);
      assert.equal(token.status, 200, JSON.stringify(token.body));
      // Only an authenticated client introspects (RFC 7662 §2.1): the public app gets a secret for it.
      const app = (await server.request('GET', '/Client/growth-chart')).body;
      await put(server, { ...app, secret: 'introspection secret' });
      const introspect = async (token: string) => {
        const response = await fetch(`${server.url}/auth/introspect`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('growth-chart:introspection secret').toString('base64')}` },
          body: new URLSearchParams({ token }).toString(),
        });
        return (await response.json()) as Record<string, unknown>;
      };
      for (const kind of ['access_token', 'refresh_token']) {
        const answer = await introspect(token.body[kind]);
        assert.equal(answer.active, true, kind);
        assert.equal(answer.patient, 'pat-a', kind);
        assert.equal(answer.encounter, 'enc-a', kind);
        assert.deepEqual(answer.fhirContext, fhirContext, kind);
        assert.equal(answer.fhirUser, `${server.url}/Patient/pat-a`, kind);
      }
    });

    test('POST /auth/launch needs a caller a policy allows, and existing resources', async () => {
      const anonymous = await server.request('POST', '/auth/launch', { auth: null, body: { patient: 'pat-a' } });
      assert.equal(anonymous.status, 401);
      const missing = await server.request('POST', '/auth/launch', { body: { patient: 'nobody' } });
      assert.equal(missing.status, 422);
      const unknownField = await server.request('POST', '/auth/launch', { body: { patient: 'pat-a', admin: true } });
      assert.equal(unknownField.status, 400);
    });
  });
}
