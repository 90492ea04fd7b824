// One authorization step, every entry point: a patient-confined token and a user without rights see nothing
// outside their confinement, whichever way they come in (REST read, search, history, vread, the SMART pickers,
// POST /auth/launch, the console's API calls, the policy debugger). SMART App Launch 2.x (patient/ scopes confine
// to the compartment; scopes ∩ the user's permissions) and OWASP ASVS 5.0 V8.2 (one decision, enforced at
// every entry point, no existence oracle).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CookieBrowser, pkcePair } from '../helpers/browser.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { authorizeInBrowser, smartAuthorizePath, type Login } from '../smart/browser-launch.ts';
import { bearer, ids, put, seedClinicalData, smartPolicyFor, tokenRequest } from '../smart/fixtures.ts';

const { verifier, challenge } = pkcePair();
const CALLBACK = 'https://chart.example/callback';
const CLINICIAN = { id: 'clin', email: 'clin@example.com', password: 'clinician password 1' };
const NOBODY = { id: 'nobody', email: 'nobody@example.com', password: 'nobody password 1' };
const ADA = { id: 'ada', email: 'ada@example.com', password: 'patient password 1' };

for (const engine of engines()) {
  describe(`confinement at every entry point (${engine})`, () => {
    let server: TestServer;
    /** CLINICIAN's token confined to Patient/pat-a by patient/ scopes. */
    let confined: string;
    /** NOBODY's token: SMART scopes to read everything, no policy of the user's own. */
    let unentitled: string;

    async function codeFor(clientId: string, redirectUri: string, login: Login, params: Record<string, string>, patient?: string) {
      const path = smartAuthorizePath(server.url, { client_id: clientId, redirect_uri: redirectUri, code_challenge: challenge, ...params });
      const response = await authorizeInBrowser(new CookieBrowser(server.url), path, login, patient ? { patient } : {});
      assert.equal(response.status, 303, response.text.slice(0, 300));
      const code = new URL(response.location!).searchParams.get('code');
      assert.ok(code, response.location!);
      return code;
    }

    async function tokenFor(login: Login, scope: string, patient?: string) {
      const code = await codeFor('chart', CALLBACK, login, { scope }, patient);
      const token = await tokenRequest(server, { grant_type: 'authorization_code', code, client_id: 'chart', redirect_uri: CALLBACK, code_verifier: verifier });
      assert.equal(token.status, 200, JSON.stringify(token.body));
      return token.body.access_token as string;
    }

    before(async () => {
      server = await startTestServer(engine);
      await seedClinicalData(server);
      await put(server, { resourceType: 'User', ...CLINICIAN } as never);
      await put(server, { resourceType: 'User', ...NOBODY } as never);
      await put(server, { resourceType: 'User', ...ADA, fhirUser: { reference: 'Patient/pat-a' } } as never);
      await put(server, {
        resourceType: 'Client',
        id: 'chart',
        name: 'Chart',
        grant_types: ['authorization_code'],
        auth: { authorization_code: { redirect_uri: CALLBACK } },
        scope: ['launch', 'launch/patient', 'patient/*.rs', 'user/*.rs'],
      } as never);
      await smartPolicyFor(server, 'chart');
      await put(server, { resourceType: 'AccessPolicy', id: 'clinician', engine: 'allow', link: [{ resourceType: 'User', id: CLINICIAN.id }] } as never);
      // A deleted Observation of the other patient, with a history.
      await put(server, { resourceType: 'Observation', id: 'obs-b-old', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/pat-b' } } as never);
      assert.equal((await server.request('DELETE', '/Observation/obs-b-old')).status, 200);
      confined = await tokenFor(CLINICIAN, 'launch/patient patient/*.rs', 'pat-a');
      unentitled = await tokenFor(NOBODY, 'user/*.rs');
    });
    after(() => server.close());

    test('REST read: another patient is not found for the confined token, and forbidden to a user without rights', async () => {
      for (const path of ['/Patient/pat-b', '/Observation/obs-b-lab', '/Observation/obs-b-old']) {
        assert.equal((await bearer(server, confined, 'GET', path)).status, 404, path);
        assert.equal((await bearer(server, unentitled, 'GET', path)).status, 403, path);
      }
      assert.equal((await bearer(server, confined, 'GET', '/Patient/pat-a')).status, 200);
    });

    test("REST search: the confined token finds only its patient's resources, whatever it searches by", async () => {
      assert.deepEqual(ids((await bearer(server, confined, 'GET', '/Observation')).body), ['obs-a-lab', 'obs-a-vital']);
      assert.deepEqual(ids((await bearer(server, confined, 'GET', '/Observation?subject=Patient/pat-b')).body), []);
      assert.deepEqual(ids((await bearer(server, confined, 'GET', '/Patient')).body), ['pat-a']);
      assert.equal((await bearer(server, unentitled, 'GET', '/Observation')).status, 403);
    });

    test("REST history and vread: another patient's resource, deleted or not, has no history and no versions", async () => {
      for (const id of ['obs-b-lab', 'obs-b-old']) {
        assert.equal((await bearer(server, confined, 'GET', `/Observation/${id}/_history`)).status, 404, id);
        assert.equal((await bearer(server, confined, 'GET', `/Observation/${id}/_history/1`)).status, 404, id);
        assert.equal((await bearer(server, unentitled, 'GET', `/Observation/${id}/_history`)).status, 403, id);
        assert.equal((await bearer(server, unentitled, 'GET', `/Observation/${id}/_history/1`)).status, 403, id);
      }
      assert.equal((await bearer(server, confined, 'GET', '/Observation/obs-a-lab/_history')).status, 200);
    });

    test('picker: a user without rights is offered no patient; a patient user gets their own record, whatever is posted', async () => {
      const path = smartAuthorizePath(server.url, { client_id: 'chart', redirect_uri: CALLBACK, code_challenge: challenge, scope: 'launch/patient patient/*.rs' });
      const page = await authorizeInBrowser(new CookieBrowser(server.url), path, NOBODY);
      assert.equal(page.status, 403);
      assert.doesNotMatch(page.text, /Ada Ames|Bob Brook/);
      const code = await codeFor('chart', CALLBACK, ADA, { scope: 'launch/patient patient/*.rs', smart_patient: 'pat-b' });
      const token = await tokenRequest(server, { grant_type: 'authorization_code', code, client_id: 'chart', redirect_uri: CALLBACK, code_verifier: verifier });
      assert.equal(token.body.patient, 'pat-a');
      assert.equal((await bearer(server, token.body.access_token, 'GET', '/Patient/pat-b')).status, 404);
    });

    test('POST /auth/launch: the confined token cannot mint, or learn of, a launch into another patient; a user without rights cannot mint', async () => {
      const other = await bearer(server, confined, 'POST', '/auth/launch', { patient: 'pat-b' });
      const missing = await bearer(server, confined, 'POST', '/auth/launch', { patient: 'no-such-patient' });
      assert.equal(other.status, missing.status, 'another patient looks exactly like one that does not exist');
      assert.equal(other.body.error, missing.body.error);
      assert.equal(other.body.launch, undefined);
      const own = await bearer(server, confined, 'POST', '/auth/launch', { patient: 'pat-a' });
      assert.equal(own.status, 201, JSON.stringify(own.body));
      assert.equal((await bearer(server, unentitled, 'POST', '/auth/launch', { patient: 'pat-a' })).status, 403);
    });

    test("console API: a user without rights, signed in to the console, reads no patient and no IAM resource", async () => {
      const redirectUri = `${server.url}/console/callback`;
      const code = await codeFor('warden-console', redirectUri, NOBODY, { scope: 'openid' });
      const token = await tokenRequest(server, { grant_type: 'authorization_code', code, client_id: 'warden-console', redirect_uri: redirectUri, code_verifier: verifier });
      assert.equal(token.status, 200, JSON.stringify(token.body));
      for (const path of ['/Patient', '/Patient/pat-a', '/Observation/obs-a-lab/_history', '/User', '/Client/chart', '/AccessPolicy']) {
        assert.equal((await bearer(server, token.body.access_token, 'GET', path)).status, 403, path);
      }
    });

    test('policy debugger: the confined token and a user without rights learn nothing of Users through it', async () => {
      const described = { request: { method: 'GET', uri: '/Patient', user: NOBODY.id } };
      for (const token of [confined, unentitled]) {
        const response = await bearer(server, token, 'POST', '/auth/test-policy', described);
        assert.ok([200, 400, 403].includes(response.status), `${response.status}`);
        assert.doesNotMatch(response.text, /nobody@example\.com/);
        const debugged = await server.request('GET', '/Observation/obs-b-lab', { auth: null, headers: { authorization: `Bearer ${token}`, 'x-debug': 'policy' } });
        assert.doesNotMatch(debugged.text, /2345-7|Patient\/pat-b/, 'a debugged request is a dry run');
      }
    });
  });
}
