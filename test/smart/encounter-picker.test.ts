// SMART standalone launch with `launch/encounter` over real HTTP: after the patient, the user chooses one of
// that patient's Encounters (none to choose when there is one), and the token response carries it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CookieBrowser, pkcePair } from '../helpers/browser.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { authorizeInBrowser, codeOf, postFormFields, smartAuthorizePath } from './browser-launch.ts';
import { bearer, put, seedClinicalData, clinicianPolicyFor, smartPolicyFor, tokenRequest } from './fixtures.ts';

const { verifier, challenge } = pkcePair();
const CALLBACK = 'https://ward.example/callback';
const CLINICIAN = { id: 'dr-lee', email: 'lee@example.com', password: 'clinician password 1' };
const PATIENT_B = { id: 'pat-b-user', email: 'b@example.com', password: 'patient password b1' };

const encounter = (id: string, patient: string, type: string, start: string) => ({
  resourceType: 'Encounter',
  id,
  status: 'finished',
  class: { code: 'AMB' },
  type: [{ text: type }],
  period: { start },
  subject: { reference: `Patient/${patient}` },
});

for (const engine of engines()) {
  describe(`SMART encounter picker (${engine})`, () => {
    let server: TestServer;
    const authorizePath = (scope: string) =>
      smartAuthorizePath(server.url, { client_id: 'ward-app', redirect_uri: CALLBACK, code_challenge: challenge, scope });
    const exchange = async (code: string) => {
      const token = await tokenRequest(server, { grant_type: 'authorization_code', code, client_id: 'ward-app', redirect_uri: CALLBACK, code_verifier: verifier });
      assert.equal(token.status, 200, JSON.stringify(token.body.error_description ?? ''));
      return token.body;
    };

    before(async () => {
      server = await startTestServer(engine);
      // pat-a has one Encounter (enc-a); pat-b gets two; pat-c none.
      await seedClinicalData(server);
      await put(server, encounter('enc-b-flu', 'pat-b', 'Flu clinic', '2024-01-10T09:00:00Z'));
      await put(server, encounter('enc-b-ortho', 'pat-b', 'Orthopaedics', '2024-03-05T14:30:00Z'));
      await put(server, { resourceType: 'Patient', id: 'pat-c', name: [{ family: 'Cole', given: ['Cy'] }] } as never);
      await put(server, { resourceType: 'User', ...CLINICIAN } as never);
      await put(server, { resourceType: 'User', ...PATIENT_B, fhirUser: { reference: 'Patient/pat-b' } } as never);
      await put(server, {
        resourceType: 'Client',
        id: 'ward-app',
        name: 'Ward App',
        grant_types: ['authorization_code'],
        auth: { authorization_code: { redirect_uri: CALLBACK } },
        scope: ['launch/patient', 'launch/encounter', 'patient/*.rs'],
      } as never);
      await smartPolicyFor(server, 'ward-app');
      await clinicianPolicyFor(server, CLINICIAN.id);
    });
    after(() => server.close());

    test('discovery advertises context-standalone-encounter', async () => {
      const { body } = await server.request('GET', '/.well-known/smart-configuration', { auth: null });
      assert.ok(body.capabilities.includes('context-standalone-encounter'));
    });

    test("a patient's only encounter is chosen without a page, and is in the token response", async () => {
      const browser = new CookieBrowser(server.url);
      const response = await authorizeInBrowser(browser, authorizePath('launch/patient launch/encounter patient/*.rs'), CLINICIAN, { patient: 'pat-a' });
      const token = await exchange(codeOf(response, CALLBACK));
      assert.equal(token.patient, 'pat-a');
      assert.equal(token.encounter, 'enc-a');
    });

    test("several encounters: the picker lists that patient's, and the chosen one is in the token response", async () => {
      const browser = new CookieBrowser(server.url);
      const page = await authorizeInBrowser(browser, authorizePath('launch/patient launch/encounter patient/*.rs'), CLINICIAN, { patient: 'pat-b' });
      assert.equal(page.status, 200);
      assert.match(page.text, /Choose the encounter for <strong>Ward App<\/strong>/);
      assert.match(page.text, /Bob Brook/);
      assert.match(page.text, /Flu clinic <span class="muted">from 2024-01-10, finished<\/span>/);
      assert.match(page.text, /Orthopaedics/);
      assert.doesNotMatch(page.text, /value="enc-a"/, "another patient's encounter is not offered");
      assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      const chosen = await browser.post('/auth/authorize', { ...postFormFields(page.text), smart_encounter: 'enc-b-ortho' });
      const token = await exchange(codeOf(chosen, CALLBACK));
      assert.equal(token.patient, 'pat-b');
      assert.equal(token.encounter, 'enc-b-ortho');
      assert.equal((await bearer(server, token.access_token, 'GET', '/Encounter/enc-b-ortho')).status, 200);
    });

    test("an encounter of another patient is refused at the redirect URI, and no code is issued", async () => {
      const browser = new CookieBrowser(server.url);
      const page = await authorizeInBrowser(browser, authorizePath('launch/patient launch/encounter patient/*.rs'), CLINICIAN, { patient: 'pat-b' });
      assert.match(page.text, /name="smart_encounter"/);
      const forged = await browser.post('/auth/authorize', { ...postFormFields(page.text), smart_encounter: 'enc-a' });
      assert.equal(forged.status, 303);
      const redirect = new URL(forged.location!);
      assert.equal(redirect.searchParams.get('error'), 'invalid_request');
      assert.match(redirect.searchParams.get('error_description')!, /Encounter\/enc-a is not an encounter of Patient\/pat-b/);
      assert.equal(redirect.searchParams.get('code'), null);
    });

    test('an encounter choice posted without the CSRF token is refused', async () => {
      const browser = new CookieBrowser(server.url);
      const page = await authorizeInBrowser(browser, authorizePath('launch/patient launch/encounter patient/*.rs'), CLINICIAN, { patient: 'pat-b' });
      const form = postFormFields(page.text);
      delete form.csrf_token;
      const forged = await browser.post('/auth/authorize', { ...form, smart_encounter: 'enc-b-flu' });
      assert.equal(forged.status, 303);
      assert.equal(new URL(forged.location!).searchParams.get('error'), 'invalid_request');
    });

    test('prompt=none: a patient or an encounter that needs choosing is interaction_required, not a page', async () => {
      const scope = 'launch/patient launch/encounter patient/*.rs';
      const expectInteractionRequired = (response: { status: number; location: string | null }) => {
        assert.equal(response.status, 303);
        const redirect = new URL(response.location!);
        assert.equal(redirect.searchParams.get('error'), 'interaction_required');
        assert.equal(redirect.searchParams.get('code'), null);
      };
      // A clinician, signed in and consented, has a patient to choose first.
      const clinician = new CookieBrowser(server.url);
      codeOf(await authorizeInBrowser(clinician, authorizePath(scope), CLINICIAN, { patient: 'pat-a' }), CALLBACK);
      expectInteractionRequired(await authorizeInBrowser(clinician, `${authorizePath(scope)}&prompt=none`, CLINICIAN));
      // pat-b's own user has no patient to choose, but two encounters.
      const patient = new CookieBrowser(server.url);
      codeOf(await authorizeInBrowser(patient, authorizePath(scope), PATIENT_B, { encounter: 'enc-b-flu' }), CALLBACK);
      expectInteractionRequired(await authorizeInBrowser(patient, `${authorizePath(scope)}&prompt=none`, PATIENT_B));
    });

    test('a patient without encounters gets a token without encounter', async () => {
      const browser = new CookieBrowser(server.url);
      const response = await authorizeInBrowser(browser, authorizePath('launch/patient launch/encounter patient/*.rs'), CLINICIAN, { patient: 'pat-c' });
      const token = await exchange(codeOf(response, CALLBACK));
      assert.equal(token.patient, 'pat-c');
      assert.equal(token.encounter, undefined);
    });

    test('without launch/encounter there is no encounter picker and no encounter in the token response', async () => {
      const browser = new CookieBrowser(server.url);
      const response = await authorizeInBrowser(browser, authorizePath('launch/patient patient/*.rs'), CLINICIAN, { patient: 'pat-b' });
      const token = await exchange(codeOf(response, CALLBACK));
      assert.equal(token.patient, 'pat-b');
      assert.equal(token.encounter, undefined);
    });
  });
}
