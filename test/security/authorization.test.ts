// Authorization attacks: what a signed-in user, an app or a confined token tries in order to reach data beyond
// its rights. Each case is raw HTTP against a real server on both engines and cites the clause it holds to:
// SMART App Launch 2.x (scopes narrow the user's permissions, patient/ scopes confine to the compartment) and
// OWASP ASVS 5.0 V8 (authorization at the one canonical decision point, least privilege, no IDOR).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CookieBrowser, hiddenFields, pkcePair } from '../helpers/browser.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { authorizeInBrowser, postFormFields, smartAuthorizePath, type Login } from '../smart/browser-launch.ts';
import { bearer, put, seedClinicalData, smartPolicyFor, tokenRequest } from '../smart/fixtures.ts';

const { verifier, challenge } = pkcePair();
const CALLBACK = 'https://chart.example/callback';
/** May read Patient/pat-a and nothing else. */
const NARROW = { id: 'narrow', email: 'narrow@example.com', password: 'narrow password 1' };
/** No policy names this user. */
const NOBODY = { id: 'nobody', email: 'nobody@example.com', password: 'nobody password 1' };
/** May read and write everything clinical. */
const CLINICIAN = { id: 'clin', email: 'clin@example.com', password: 'clinician password 1' };
const DEBUGGER = { id: 'debugger', secret: 'debugger-secret' };

for (const engine of engines()) {
  describe(`authorization attacks (${engine})`, () => {
    let server: TestServer;
    const authorizePath = (params: Record<string, string>, clientId = 'chart') =>
      smartAuthorizePath(server.url, { client_id: clientId, redirect_uri: CALLBACK, code_challenge: challenge, ...params });
    const exchange = (code: string, clientId = 'chart') =>
      tokenRequest(server, { grant_type: 'authorization_code', code, client_id: clientId, redirect_uri: CALLBACK, code_verifier: verifier });

    /** Signs `login` in, consents, and stops at the first page that is not consent (the picker, or the redirect). */
    async function untilPicker(login: Login, params: Record<string, string>, browser = new CookieBrowser(server.url)) {
      return { browser, response: await authorizeInBrowser(browser, authorizePath(params), login) };
    }

    async function tokenFor(login: Login, params: Record<string, string>, patient?: string) {
      const response = await authorizeInBrowser(new CookieBrowser(server.url), authorizePath(params), login, patient ? { patient } : {});
      assert.equal(response.status, 303, response.text.slice(0, 400));
      const code = new URL(response.location!).searchParams.get('code');
      assert.ok(code, response.location!);
      const token = await exchange(code);
      assert.equal(token.status, 200, JSON.stringify(token.body));
      return token.body as Record<string, string>;
    }

    const errorOf = (location: string | null | undefined) => (location ? new URL(location, server.url).searchParams.get('error') : null);

    before(async () => {
      server = await startTestServer(engine);
      await seedClinicalData(server);
      await put(server, { resourceType: 'Encounter', id: 'enc-a2', status: 'planned', class: { code: 'AMB' }, subject: { reference: 'Patient/pat-a' } } as never);
      for (const user of [NARROW, NOBODY, CLINICIAN]) await put(server, { resourceType: 'User', ...user } as never);
      const app = { grant_types: ['authorization_code'], auth: { authorization_code: { redirect_uri: CALLBACK } }, scope: ['launch', 'launch/patient', 'launch/encounter', 'patient/*.rs', 'user/*.rs'] };
      await put(server, { resourceType: 'Client', id: 'chart', name: 'Chart', ...app } as never);
      await put(server, { resourceType: 'Client', id: 'other', name: 'Other', ...app } as never);
      await smartPolicyFor(server, 'chart');
      await put(server, { resourceType: 'AccessPolicy', id: 'narrow-reads-ada', engine: 'matcho', link: [{ resourceType: 'User', id: NARROW.id }], matcho: { 'request-method': 'get', uri: '/Patient/pat-a' } } as never);
      await put(server, { resourceType: 'AccessPolicy', id: 'clinician', engine: 'allow', link: [{ resourceType: 'User', id: CLINICIAN.id }] } as never);
      await put(server, { resourceType: 'Client', id: DEBUGGER.id, secret: DEBUGGER.secret, grant_types: ['basic'] } as never);
      // Names the debugger explicitly: a catch-all policy does not grant it.
      await put(server, { resourceType: 'AccessPolicy', id: 'debugger', engine: 'matcho', link: [{ resourceType: 'Client', id: DEBUGGER.id }], matcho: { 'request-method': 'post', uri: '/auth/test-policy' } } as never);
    });
    after(() => server.close());

    // SMART App Launch 2.x §"Standalone launch" + OWASP ASVS 5.0 V8.2.1: the picker offers what the user may read.
    test('the patient picker lists only the patients the user may read, and a name search finds no other', async () => {
      const { browser, response } = await untilPicker(NARROW, { scope: 'launch/patient patient/*.rs' });
      assert.equal(response.status, 200, response.text.slice(0, 400));
      assert.match(response.text, /Ada Ames/);
      assert.doesNotMatch(response.text, /Bob Brook|1980-02-02/);
      const searched = await browser.get(`/auth/authorize?${new URLSearchParams({ ...hiddenFields(response.text.slice(0, response.text.indexOf('method="post"'))), smart_patient_query: 'Brook' })}`);
      assert.doesNotMatch(searched.text, /Bob Brook|1980-02-02/);
    });

    // OWASP ASVS 5.0 V8.2.2 (IDOR): the form's value is checked with the same decision, not trusted.
    test('a patient the user may not read is refused when posted to the picker, and no code is issued', async () => {
      const { browser, response } = await untilPicker(NARROW, { scope: 'launch/patient patient/*.rs' });
      const forged = await browser.post('/auth/authorize', { ...postFormFields(response.text), smart_patient: 'pat-b' });
      assert.equal(forged.status, 303);
      assert.equal(errorOf(forged.location), 'access_denied');
      assert.equal(new URL(forged.location!).searchParams.get('code'), null);
    });

    test('a user who may read no patient gets an error page instead of a picker, and no patient is named', async () => {
      const { response } = await untilPicker(NOBODY, { scope: 'launch/patient patient/*.rs' });
      assert.equal(response.status, 403);
      assert.match(response.text, /may not open any patient/);
      assert.doesNotMatch(response.text, /Ada Ames|Bob Brook|smart_patient/);
    });

    // SMART App Launch 2.x §"Scopes": a token's reach is the scopes intersected with the user's permissions.
    test('a smart-on-fhir policy does not let a user/ scope read what the user may not', async () => {
      const token = await tokenFor(NOBODY, { scope: 'user/*.rs' });
      assert.equal((await bearer(server, token.access_token, 'GET', '/Patient/pat-a')).status, 403);
      assert.equal((await bearer(server, token.access_token, 'GET', '/Observation')).status, 403);
      const narrow = await tokenFor(NARROW, { scope: 'user/*.rs' });
      assert.equal((await bearer(server, narrow.access_token, 'GET', '/Patient/pat-a')).status, 200);
      assert.equal((await bearer(server, narrow.access_token, 'GET', '/Patient/pat-b')).status, 403);
    });

    test('an EHR launch into a patient does not let a user without rights read that patient', async () => {
      const minted = await server.request('POST', '/auth/launch', { body: { patient: 'pat-b', client: 'chart' } });
      const token = await tokenFor(NOBODY, { scope: 'launch patient/*.rs', launch: minted.body.launch });
      assert.equal(token.patient, 'pat-b');
      assert.equal((await bearer(server, token.access_token, 'GET', '/Patient/pat-b')).status, 403);
      assert.equal((await bearer(server, token.access_token, 'GET', '/Observation')).status, 403);
    });

    test('the encounter picker offers and accepts only encounters the user may read', async () => {
      // NARROW may read Patient/pat-a but no Encounter: none is offered, none is put in the token.
      const token = await tokenFor(NARROW, { scope: 'launch/patient launch/encounter patient/*.rs' }, 'pat-a');
      assert.equal(token.patient, 'pat-a');
      assert.equal(token.encounter, undefined);
      const { browser, response } = await untilPicker(CLINICIAN, { scope: 'launch/patient launch/encounter patient/*.rs' });
      const atEncounters = await browser.post('/auth/authorize', { ...postFormFields(response.text), smart_patient: 'pat-a' });
      assert.match(atEncounters.text, /Choose the encounter/);
      assert.match(atEncounters.text, /enc-a2/);
      const narrow = await untilPicker(NARROW, { scope: 'launch/patient launch/encounter patient/*.rs' });
      const forged = await narrow.browser.post('/auth/authorize', { ...postFormFields(narrow.response.text), smart_patient: 'pat-a', smart_encounter: 'enc-a' });
      assert.equal(errorOf(forged.location), 'access_denied');
    });

    // SMART App Launch 2.x §"patient/ scopes": another patient's data stays out of reach, deleted or not.
    test("a patient-confined token reads neither the history nor the versions of another patient's deleted resource", async () => {
      await put(server, { resourceType: 'Observation', id: 'obs-b-gone', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/pat-b' } } as never);
      assert.equal((await server.request('DELETE', '/Observation/obs-b-gone')).status, 200);
      const token = await tokenFor(CLINICIAN, { scope: 'launch/patient patient/*.rs' }, 'pat-a');
      const history = await bearer(server, token.access_token, 'GET', '/Observation/obs-b-gone/_history');
      assert.equal(history.status, 404, history.text);
      assert.doesNotMatch(history.text, /pat-b/);
      assert.equal((await bearer(server, token.access_token, 'GET', '/Observation/obs-b-gone/_history/1')).status, 404);
      assert.equal((await bearer(server, token.access_token, 'GET', '/Observation/obs-b-gone')).status, 404);
    });

    test("instance $validate is a read: a patient-confined token cannot validate, and so learn of, another patient's resource (SMART App Launch 2.x scopes; ASVS 5.0 V8.2.2)", async () => {
      const token = await tokenFor(CLINICIAN, { scope: 'launch/patient patient/*.rs' }, 'pat-a');
      const other = await bearer(server, token.access_token, 'POST', '/Patient/pat-b/$validate');
      assert.ok(other.status === 403 || other.status === 404, `${other.status}: ${other.text}`);
      assert.doesNotMatch(other.text, /information|issue.*Patient\./);
      assert.equal((await bearer(server, token.access_token, 'POST', '/Patient/pat-a/$validate')).status, 200);
    });

    test("a resource moved into the patient's compartment does not reveal the version that belonged to another patient", async () => {
      await put(server, { resourceType: 'Observation', id: 'obs-moved', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/pat-b' } } as never);
      await put(server, { resourceType: 'Observation', id: 'obs-moved', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/pat-a' } } as never);
      const token = await tokenFor(CLINICIAN, { scope: 'launch/patient patient/*.rs' }, 'pat-a');
      assert.equal((await bearer(server, token.access_token, 'GET', '/Observation/obs-moved/_history/2')).status, 200);
      assert.equal((await bearer(server, token.access_token, 'GET', '/Observation/obs-moved/_history/1')).status, 404);
    });

    // OWASP ASVS 5.0 V8.2.1: the policy decides on the same canonical path the router routes.
    test('a percent-encoded type name does not slip past a deny-style policy', async () => {
      await put(server, { resourceType: 'Client', id: 'no-obs', secret: 'no-obs-secret', grant_types: ['basic'] } as never);
      await put(server, { resourceType: 'AccessPolicy', id: 'no-obs', engine: 'matcho', link: [{ resourceType: 'Client', id: 'no-obs' }], matcho: { uri: { $not: '#^/Observation' } } } as never);
      const auth = { id: 'no-obs', secret: 'no-obs-secret' };
      assert.equal((await server.request('GET', '/Patient/pat-a', { auth })).status, 200);
      assert.equal((await server.request('GET', '/Observation/obs-a-lab', { auth })).status, 403);
      for (const path of ['/%4Fbservation/obs-a-lab', '/%4fbservation/obs-a-lab', '/Observation/obs%2Da%2Dlab', '/%4Fbservation']) {
        const response = await server.request('GET', path, { auth });
        assert.ok(response.status === 403 || response.status === 404, `${path}: ${response.status}`);
        assert.doesNotMatch(response.text, /2345-7/, path);
      }
    });

    // RFC 9110 §9.3.2: HEAD is GET without content, so it is allowed exactly where GET is.
    test('HEAD is allowed where a policy allows GET', async () => {
      await put(server, { resourceType: 'Client', id: 'reader', secret: 'reader-secret', grant_types: ['basic'] } as never);
      await put(server, { resourceType: 'AccessPolicy', id: 'reader', engine: 'matcho', link: [{ resourceType: 'Client', id: 'reader' }], matcho: { 'request-method': 'get' } } as never);
      const auth = { id: 'reader', secret: 'reader-secret' };
      assert.equal((await server.request('GET', '/Patient/pat-a', { auth })).status, 200);
      assert.equal((await server.request('HEAD', '/Patient/pat-a', { auth })).status, 200);
      assert.equal((await server.request('HEAD', '/Patient', { auth })).status, 200);
      assert.equal((await server.request('DELETE', '/Patient/pat-a', { auth })).status, 403);
    });

    // OWASP ASVS 5.0 V8.2.2: the debugger is no side door to the fields of Users and Clients.
    test("the policy debugger shows no field of a User or Client the caller may not read, not even in a rule's reasons", async () => {
      const probe = { engine: 'matcho', matcho: { user: { email: 'guess@example.com' } } };
      const traced = await server.request('POST', '/auth/test-policy', {
        auth: DEBUGGER,
        body: { request: { method: 'GET', uri: '/Patient', user: CLINICIAN.id, client: 'chart' }, policy: probe },
      });
      assert.equal(traced.status, 403, traced.text);
      assert.doesNotMatch(traced.text, /clin@example\.com|Chart|authorization_code/);
      const root = await server.request('POST', '/auth/test-policy', { body: { request: { method: 'GET', uri: '/Patient', user: CLINICIAN.id }, policy: probe } });
      assert.match(root.text, /clin@example\.com/, 'the root client may read Users, so it sees them');
    });

    // SMART App Launch 2.x §"EHR launch": a launch value opens one authorization, for the client it was made for.
    test('a launch value is single use and bound to the first client and user that use it', async () => {
      const mint = async () => (await server.request('POST', '/auth/launch', { body: { patient: 'pat-a' } })).body.launch as string;
      const launch = await mint();
      const first = await tokenFor(CLINICIAN, { scope: 'launch patient/*.rs', launch });
      assert.equal(first.patient, 'pat-a');
      const again = await authorizeInBrowser(new CookieBrowser(server.url), authorizePath({ scope: 'launch patient/*.rs', launch }), CLINICIAN);
      assert.equal(errorOf(again.location), 'invalid_request', 'used once already');

      // Minted for no particular client: its first use binds it to that client and user, pending the encounter choice.
      const shared = await mint();
      const owner = await authorizeInBrowser(new CookieBrowser(server.url), authorizePath({ scope: 'launch launch/encounter patient/*.rs', launch: shared }, 'other'), CLINICIAN);
      assert.match(owner.text, /Choose the encounter/);
      const stranger = await authorizeInBrowser(new CookieBrowser(server.url), authorizePath({ scope: 'launch patient/*.rs', launch: shared }, 'other'), NARROW);
      assert.equal(errorOf(stranger.location), 'access_denied', 'another user');
      const otherApp = await authorizeInBrowser(new CookieBrowser(server.url), authorizePath({ scope: 'launch patient/*.rs', launch: shared }), CLINICIAN);
      assert.equal(errorOf(otherApp.location), 'invalid_request', 'another client');
    });
  });
}
