// Attacks through the searches that reach many resources at once: a search across types (GET /?_type=), and the
// full-text parameters `_text` and `_content`, which read every word of a resource. Each type is authorized as
// its own search; a patient-confined token finds nothing of another patient through any of them.
//   OWASP ASVS 5.0 V8.2.2 (data-level access: every record returned is checked), V8.3.1 (authorization enforced
//   at the service layer), V5.1.3 / V5.1.4 (input validated: a malformed value is refused, not guessed).
//   SMART App Launch 2.x "Scopes and Launch Context": a patient/ scope grants that patient's data only; a type
//   the token has no scope for is not searched.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CookieBrowser, pkcePair } from '../helpers/browser.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { authorizeInBrowser, smartAuthorizePath, type Login } from '../smart/browser-launch.ts';
import { bearer, put, seedClinicalData, smartPolicyFor, tokenRequest } from '../smart/fixtures.ts';

const { verifier, challenge } = pkcePair();
const CALLBACK = 'https://chart.example/callback';
const CLINICIAN = { id: 'clin', email: 'clin@example.com', password: 'clinician password 1' };
const READER = { id: 'obs-reader', secret: 'obs-reader-secret-1' };

interface Bundle { total?: number; entry?: { resource: { resourceType: string; id: string; issue?: { diagnostics: string }[] }; search: { mode: string } }[] }
const all = (bundle: Bundle) => (bundle.entry ?? []).filter((e) => e.search.mode !== 'outcome').map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();
const outcome = (bundle: Bundle) => bundle.entry?.find((e) => e.search.mode === 'outcome')?.resource.issue?.map((i) => i.diagnostics).join('; ') ?? '';

const condition = (id: string, patient: string, words: string) => ({
  resourceType: 'Condition', id, subject: { reference: `Patient/${patient}` },
  text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${words}</div>` }, note: [{ text: `${words} noted` }],
});

for (const engine of engines()) {
  describe(`searches across types and words stay within the confinement (${engine})`, () => {
    let server: TestServer;
    /** Confined to Patient/pat-a by patient/*.rs. */
    let confined: string;
    /** Confined to Patient/pat-a, and only to Observations. */
    let observationsOnly: string;

    async function tokenFor(login: Login, scope: string, patient: string) {
      const path = smartAuthorizePath(server.url, { client_id: 'chart', redirect_uri: CALLBACK, code_challenge: challenge, scope });
      const response = await authorizeInBrowser(new CookieBrowser(server.url), path, login, { patient });
      assert.equal(response.status, 303, response.text.slice(0, 300));
      const code = new URL(response.location!).searchParams.get('code')!;
      const token = await tokenRequest(server, { grant_type: 'authorization_code', code, client_id: 'chart', redirect_uri: CALLBACK, code_verifier: verifier });
      assert.equal(token.status, 200, JSON.stringify(token.body));
      return token.body.access_token as string;
    }

    const search = async (token: string, path: string) => {
      const response = await bearer(server, token, 'GET', path);
      assert.equal(response.status, 200, `${path}: ${response.text}`);
      return response.body as Bundle;
    };

    before(async () => {
      server = await startTestServer(engine);
      await seedClinicalData(server);
      await put(server, condition('cond-a', 'pat-a', 'Seasonal rhinitis'));
      await put(server, condition('cond-b', 'pat-b', 'Secret tuberculosis rhinitis'));
      await put(server, { resourceType: 'User', ...CLINICIAN } as never);
      await put(server, {
        resourceType: 'Client', id: 'chart', name: 'Chart', grant_types: ['authorization_code'],
        auth: { authorization_code: { redirect_uri: CALLBACK } }, scope: ['launch', 'launch/patient', 'patient/*.rs', 'patient/Observation.rs'],
      } as never);
      await smartPolicyFor(server, 'chart');
      await put(server, { resourceType: 'AccessPolicy', id: 'clinician', engine: 'allow', link: [{ resourceType: 'User', id: CLINICIAN.id }] } as never);
      await put(server, { resourceType: 'Client', id: READER.id, secret: READER.secret, grant_types: ['basic'] } as never);
      await put(server, {
        resourceType: 'AccessPolicy', id: 'obs-reader', engine: 'matcho', link: [{ resourceType: 'Client', id: READER.id }],
        matcho: { uri: '/Observation', 'request-method': 'get' },
      } as never);
      confined = await tokenFor(CLINICIAN, 'launch/patient patient/*.rs', 'pat-a');
      observationsOnly = await tokenFor(CLINICIAN, 'launch/patient patient/Observation.rs', 'pat-a');
    });
    after(() => server.close());

    test('_type returns each type within the patient\'s compartment only, the total too (V8.2.2)', async () => {
      const bundle = await search(confined, '/?_type=Patient,Observation,Condition');
      assert.deepEqual(all(bundle), ['Condition/cond-a', 'Observation/obs-a-lab', 'Observation/obs-a-vital', 'Patient/pat-a']);
      assert.equal(bundle.total, 4);
      assert.deepEqual(all(await search(confined, '/?_type=Patient,Observation&_id=pat-b,obs-b-lab,obs-b-vital')), []);
      assert.equal((await search(confined, '/?_type=Patient,Condition&_summary=count')).total, 2);
    });

    test('_type leaves out a type the token has no scope for, and says so (SMART scopes)', async () => {
      const bundle = await search(observationsOnly, '/?_type=Observation,Patient,Condition');
      assert.deepEqual(all(bundle), ['Observation/obs-a-lab', 'Observation/obs-a-vital']);
      assert.match(outcome(bundle), /Patient was left out/);
      assert.match(outcome(bundle), /Condition was left out/);
    });

    test('_type where no type may be searched answers the denial, not an empty page (V8.3.1)', async () => {
      const response = await bearer(server, observationsOnly, 'GET', '/?_type=Patient,Condition');
      assert.equal(response.status, 403, response.text);
      assert.equal(response.body.resourceType, 'OperationOutcome');
      const anonymous = await server.request('GET', '/?_type=Patient', { auth: null });
      assert.equal(anonymous.status, 401, anonymous.text);
    });

    test('an AccessPolicy that allows one type lets _type reach no other (V8.3.1)', async () => {
      const response = await server.request('GET', '/?_type=Observation,Patient', { auth: READER });
      assert.equal(response.status, 200, response.text);
      assert.deepEqual(all(response.body), ['Observation/obs-a-lab', 'Observation/obs-a-vital', 'Observation/obs-b-lab', 'Observation/obs-b-vital']);
      assert.match(outcome(response.body), /Patient was left out/);
    });

    test('_text and _content find no word of another patient\'s resource: no oracle on its content', async () => {
      assert.deepEqual(all(await search(confined, '/Condition?_text=tuberculosis')), []);
      assert.deepEqual(all(await search(confined, '/Condition?_content=tuberculosis')), []);
      assert.deepEqual(all(await search(confined, '/Condition?_content=rhinitis')), ['Condition/cond-a']);
      assert.deepEqual(all(await search(confined, '/Condition?_text=rhinitis&_summary=count')), []);
      assert.equal((await search(confined, '/Condition?_content=rhinitis&_summary=count')).total, 1);
      assert.deepEqual(all(await search(confined, '/?_type=Condition,Observation&_content=tuberculosis')), []);
      assert.deepEqual(all(await search(confined, '/Patient?_has:Condition:subject:_content=tuberculosis')), []);
    });

    test('malformed _type and near values: 400 with an OperationOutcome (V5.1.3)', async () => {
      for (const path of ['/?_type=Nope', '/?_type=', '/?_type=Patient,', '/', '/?_type=Patient&_type=Observation', '/Location?near=100|0', '/Location?near=a|b|c|d',
        '/Location?near=1|2|3|parsec', '/Location?near=1|2|1e400', '/?_type=Patient,Observation&code=x', '/?_type=Patient&_sort=name', '/?_type=Patient&_include=Patient:link']) {
        const response = await bearer(server, confined, 'GET', path);
        assert.equal(response.status, 400, `${path}: ${response.text}`);
        assert.equal(response.body.resourceType, 'OperationOutcome', path);
      }
    });
  });
}
