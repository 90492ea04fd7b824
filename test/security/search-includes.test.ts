// Attacks through the parts of a search that reach beyond its matches: _include, _revinclude, :iterate, *,
// chains and _has. Each resource a search returns or looks into passes the one authorization step for its
// type; a confined caller neither receives nor learns of what lies outside its confinement.
//   OWASP ASVS 5.0 V8.2.2 (data-level access: every record returned is checked), V8.2.3 (no bypass through
//   related-object references), V8.3.1 (authorization enforced at the service layer, not by the client).
//   SMART App Launch 2.x "Scopes and Launch Context": a patient/ scope grants access to that patient's data
//   only; a token without a scope for a type gets none of that type.
// HAPI FHIR (CVE-2020-24301 class) and Microsoft's FHIR server both once returned another patient's resources
// through an _include: these tests pin that it cannot happen here.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CookieBrowser, pkcePair } from '../helpers/browser.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { authorizeInBrowser, smartAuthorizePath, type Login } from '../smart/browser-launch.ts';
import { bearer, observation, put, seedClinicalData, smartPolicyFor, tokenRequest } from '../smart/fixtures.ts';

const { verifier, challenge } = pkcePair();
const CALLBACK = 'https://chart.example/callback';
const CLINICIAN = { id: 'clin', email: 'clin@example.com', password: 'clinician password 1' };
const READER = { id: 'obs-reader', secret: 'obs-reader-secret-1' };

interface Bundle { entry?: { resource: { resourceType: string; id: string; issue?: { diagnostics: string }[] }; search: { mode: string } }[] }
const all = (bundle: Bundle) => (bundle.entry ?? []).filter((e) => e.search.mode !== 'outcome').map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();

for (const engine of engines()) {
  describe(`search beyond the matches stays within the confinement (${engine})`, () => {
    let server: TestServer;
    /** Confined to Patient/pat-a by patient/*.rs. */
    let confined: string;
    /** Confined to Patient/pat-a, and only to Observations: no scope for Patient. */
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
      // pat-a's lab result names pat-b as its performer and has pat-b's lab result as a member; pat-b's vital
      // sign focuses on pat-a. None of these make pat-b's resources pat-a's.
      await put(server, { ...observation('obs-a-lab', 'pat-a', 'laboratory'), performer: [{ reference: 'Patient/pat-b' }], hasMember: [{ reference: 'Observation/obs-b-lab' }] } as never);
      await put(server, { ...observation('obs-b-vital', 'pat-b', 'vital-signs'), focus: [{ reference: 'Patient/pat-a' }] } as never);
      await put(server, { resourceType: 'User', ...CLINICIAN } as never);
      await put(server, {
        resourceType: 'Client', id: 'chart', name: 'Chart', grant_types: ['authorization_code'],
        auth: { authorization_code: { redirect_uri: CALLBACK } }, scope: ['launch', 'launch/patient', 'patient/*.rs', 'patient/Observation.rs'],
      } as never);
      await smartPolicyFor(server, 'chart');
      await put(server, { resourceType: 'AccessPolicy', id: 'clinician', engine: 'allow', link: [{ resourceType: 'User', id: CLINICIAN.id }] } as never);
      // A client whose policy allows searching Observations, and nothing else.
      await put(server, { resourceType: 'Client', id: READER.id, secret: READER.secret, grant_types: ['basic'] } as never);
      await put(server, {
        resourceType: 'AccessPolicy', id: 'obs-reader', engine: 'matcho', link: [{ resourceType: 'Client', id: READER.id }],
        matcho: { uri: '/Observation', 'request-method': 'get' },
      } as never);
      confined = await tokenFor(CLINICIAN, 'launch/patient patient/*.rs', 'pat-a');
      observationsOnly = await tokenFor(CLINICIAN, 'launch/patient patient/Observation.rs', 'pat-a');
    });
    after(() => server.close());

    test('_include never returns another patient\'s resource a visible one points at (V8.2.2)', async () => {
      assert.deepEqual(all(await search(confined, '/Observation?_include=Observation:performer')), ['Observation/obs-a-lab', 'Observation/obs-a-vital']);
      assert.deepEqual(all(await search(confined, '/Observation?_include=Observation:has-member')), ['Observation/obs-a-lab', 'Observation/obs-a-vital']);
      assert.deepEqual(all(await search(confined, '/Observation?_include=*')), ['Observation/obs-a-lab', 'Observation/obs-a-vital', 'Patient/pat-a']);
      assert.deepEqual(all(await search(confined, '/Observation?_include=*&_include:iterate=*&_revinclude:iterate=Observation:focus')), [
        'Observation/obs-a-lab', 'Observation/obs-a-vital', 'Patient/pat-a',
      ]);
    });

    test('_revinclude never returns another patient\'s resource that points at a visible one', async () => {
      assert.deepEqual(all(await search(confined, '/Patient?_revinclude=Observation:focus')), ['Patient/pat-a']);
      assert.deepEqual(all(await search(confined, '/Patient?_revinclude=Observation:subject')), ['Observation/obs-a-lab', 'Observation/obs-a-vital', 'Patient/pat-a']);
    });

    test('an include of a type the token has no scope for returns none of it, and says so (SMART scopes)', async () => {
      const bundle = await search(observationsOnly, '/Observation?_include=Observation:subject');
      assert.deepEqual(all(bundle), ['Observation/obs-a-lab', 'Observation/obs-a-vital']);
      const outcome = bundle.entry!.find((entry) => entry.search.mode === 'outcome');
      assert.match(outcome!.resource.issue![0].diagnostics, /Patient resources were not included/);
    });

    test('a chain does not match through a resource out of sight: no oracle on its content (V8.2.3)', async () => {
      // obs-a-lab's performer is pat-b, named Brook: the confined token must not be able to learn that.
      assert.deepEqual(all(await search(confined, '/Observation?performer:Patient.name=brook')), []);
      assert.deepEqual(all(await search(confined, '/Observation?has-member.code=2345-7')), []);
      assert.deepEqual(all(await search(confined, '/Observation?subject:Patient.name=ames&category=laboratory')), ['Observation/obs-a-lab']);
      // Without a scope for Patient, a chain into Patient matches nothing.
      assert.deepEqual(all(await search(observationsOnly, '/Observation?subject:Patient.name=ames')), []);
    });

    test('_has does not match through a resource out of sight', async () => {
      // obs-b-vital (pat-b's) focuses on pat-a: whether it exists is not pat-a's token's to know.
      assert.deepEqual(all(await search(confined, '/Patient?_has:Observation:focus:_id=obs-b-vital')), []);
      assert.deepEqual(all(await search(confined, '/Patient?_has:Observation:subject:category=laboratory')), ['Patient/pat-a']);
    });

    test('an AccessPolicy that allows one type lets includes and chains reach no other (V8.3.1)', async () => {
      const asReader = (path: string) => server.request('GET', path, { auth: READER });
      const included = await asReader('/Observation?_include=Observation:subject');
      assert.equal(included.status, 200, included.text);
      assert.deepEqual(all(included.body), ['Observation/obs-a-lab', 'Observation/obs-a-vital', 'Observation/obs-b-lab', 'Observation/obs-b-vital']);
      assert.deepEqual(all((await asReader('/Observation?subject:Patient.name=ames')).body), []);
      assert.equal((await asReader('/Patient?_revinclude=Observation:subject')).status, 403);
    });
  });
}
