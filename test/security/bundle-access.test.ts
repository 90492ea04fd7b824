// Bundles are not a way around the one authorization step: each entry is decided as if it came alone, with
// the Bundle and the entry named in the request object, and carried out within that entry's confinement.
//   OWASP ASVS 5.0 V8.2.1/V8.2.2: access is checked for every function and every data item, at the same
//     enforcement point, whatever the path the request takes (a Bundle entry, a conditional reference);
//   OWASP ASVS 5.0 V8.3.1: authorization is enforced at a trusted service layer, not by the client's grouping;
//   SMART App Launch 2.x §Scopes: patient/ scopes confine every interaction to the patient's compartment.
//   FHIR R4 §3.1.0.11.2: a transaction succeeds or fails as a whole.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CookieBrowser, pkcePair } from '../helpers/browser.ts';
import { assertOutcome } from '../helpers/outcome.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { authorizeInBrowser, smartAuthorizePath } from '../smart/browser-launch.ts';
import { bearer, ids, put, seedClinicalData, smartPolicyFor, tokenRequest } from '../smart/fixtures.ts';

const { verifier, challenge } = pkcePair();
const CALLBACK = 'https://loader.example/callback';
const CLINICIAN = { id: 'clin', email: 'clin@example.com', password: 'clinician password 1' };
const WRITER = { id: 'obs-writer', secret: 'observation writer secret' };

const transaction = (entry: unknown[]) => ({ resourceType: 'Bundle', type: 'transaction', entry });
const batch = (entry: unknown[]) => ({ resourceType: 'Bundle', type: 'batch', entry });
const observationFor = (patient: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'bundle attack' },
  identifier: [{ system: 'urn:attack', value: patient }],
  subject: { reference: `Patient/${patient}` },
  ...extra,
});

for (const engine of engines()) {
  describe(`Bundle entries pass the authorization step one by one (${engine})`, () => {
    let server: TestServer;
    /** CLINICIAN's token confined to Patient/pat-a by patient/*.cruds. */
    let confined: string;

    before(async () => {
      server = await startTestServer(engine);
      await seedClinicalData(server);
      await put(server, { resourceType: 'Client', id: WRITER.id, secret: WRITER.secret, grant_types: ['basic'] } as never);
      // The writer may create Observations, and nothing else: not Patients, not reads.
      await put(server, {
        resourceType: 'AccessPolicy',
        id: 'observation-writes-only',
        engine: 'matcho',
        link: [{ resourceType: 'Client', id: WRITER.id }],
        matcho: { 'request-method': 'post', params: { 'resource/type': 'Observation' } },
      } as never);
      await put(server, { resourceType: 'User', ...CLINICIAN } as never);
      await put(server, {
        resourceType: 'Client',
        id: 'loader',
        grant_types: ['authorization_code'],
        auth: { authorization_code: { redirect_uri: CALLBACK } },
        scope: ['launch/patient', 'patient/*.cruds'],
      } as never);
      await smartPolicyFor(server, 'loader');
      await put(server, { resourceType: 'AccessPolicy', id: 'clinician', engine: 'allow', link: [{ resourceType: 'User', id: CLINICIAN.id }] } as never);
      const path = smartAuthorizePath(server.url, { client_id: 'loader', redirect_uri: CALLBACK, code_challenge: challenge, scope: 'launch/patient patient/*.cruds' });
      const response = await authorizeInBrowser(new CookieBrowser(server.url), path, CLINICIAN, { patient: 'pat-a' });
      assert.equal(response.status, 303, response.text.slice(0, 300));
      const code = new URL(response.location!).searchParams.get('code')!;
      const token = await tokenRequest(server, { grant_type: 'authorization_code', code, client_id: 'loader', redirect_uri: CALLBACK, code_verifier: verifier });
      assert.equal(token.status, 200, JSON.stringify(token.body));
      confined = token.body.access_token;
    });
    after(() => server.close());

    const asWriter = (body: unknown) => server.request('POST', '/', { body, auth: WRITER });
    const count = async (search: string) => (await server.request('GET', `${search}&_count=0`)).body.total as number;

    test('a policy allowing only Observation writes fails a transaction that also writes a Patient, and nothing is stored', async () => {
      const answer = await asWriter(
        transaction([
          { fullUrl: 'urn:uuid:5a000000-0000-4000-8000-000000000001', resource: observationFor('pat-a', { identifier: [{ system: 'urn:attack', value: 'smuggled' }] }), request: { method: 'POST', url: 'Observation' } },
          { resource: { resourceType: 'Patient', id: 'smuggled' }, request: { method: 'PUT', url: 'Patient/smuggled' } },
        ]),
      );
      assertOutcome(answer, 403, /Bundle\.entry\[1\] \(PUT Patient\/smuggled\).*not allowed to PUT \/Patient\/smuggled/);
      assert.equal((await server.request('GET', '/Patient/smuggled')).status, 404);
      assert.equal(await count('/Observation?identifier=urn:attack|smuggled'), 0);
    });

    test('the same policy lets the Observation-only transaction through', async () => {
      const answer = await asWriter(transaction([{ resource: observationFor('pat-a'), request: { method: 'POST', url: 'Observation' } }]));
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.entry[0].response.status, '201 Created');
    });

    test('in a batch, the denied entry fails alone', async () => {
      const answer = await asWriter(
        batch([
          { resource: observationFor('pat-a'), request: { method: 'POST', url: 'Observation' } },
          { request: { method: 'GET', url: 'Patient/pat-b' } },
        ]),
      );
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.body.entry.map((entry: any) => entry.response.status), ['201 Created', '403 Forbidden']);
      assert.doesNotMatch(JSON.stringify(answer.body.entry[1]), /Brook/, 'nothing of the denied read is answered');
    });

    test('a conditional create needs the search it makes to be allowed too', async () => {
      const answer = await asWriter(
        transaction([{ resource: observationFor('pat-a'), request: { method: 'POST', url: 'Observation', ifNoneExist: 'subject=Patient/pat-b' } }]),
      );
      assertOutcome(answer, 403, /not allowed to GET \/Observation/);
    });

    test('a policy sees which Bundle and entry a request comes from', async () => {
      await put(server, {
        resourceType: 'AccessPolicy',
        id: 'writer-reads-in-batches',
        engine: 'matcho',
        link: [{ resourceType: 'Client', id: WRITER.id }],
        matcho: { 'request-method': 'get', bundle: { type: 'batch', entry: 0 } },
      } as never);
      const read = { request: { method: 'GET', url: 'Patient/pat-a' } };
      const answer = await asWriter(batch([read, read]));
      assert.deepEqual(answer.body.entry.map((entry: any) => entry.response.status), ['200 OK', '403 Forbidden']);
      assert.equal((await server.request('GET', '/Patient/pat-a', { auth: WRITER })).status, 403, 'not outside a Bundle');
    });

    test('an SQL policy decides the searches of conditional references and conditions, outside the transaction', async () => {
      await put(server, {
        resourceType: 'AccessPolicy',
        id: 'writer-searches-patients-by-sql',
        engine: 'sql',
        link: [{ resourceType: 'Client', id: WRITER.id }],
        sql: { query: "select {{params.resource/type}} = 'Patient' and {{request-method}} = 'get'" },
      } as never);
      const answer = await asWriter(
        transaction([
          {
            resource: observationFor('pat-a', { subject: { reference: 'Patient?_id=pat-a' } }),
            request: { method: 'POST', url: 'Observation' },
          },
        ]),
      );
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.entry[0].resource.subject.reference, 'Patient/pat-a');
    });

    test('without credentials, every entry is 401 and nothing is written', async () => {
      const answer = await server.request('POST', '/', { auth: null, body: transaction([{ resource: { resourceType: 'Patient', id: 'anon' }, request: { method: 'PUT', url: 'Patient/anon' } }]) });
      assertOutcome(answer, 401, /Authentication required/);
      assert.equal((await server.request('GET', '/Patient/anon')).status, 404);
    });

    test("SMART: a patient-confined token cannot write another patient's resource through a transaction", async () => {
      const answer = await bearer(server, confined, 'POST', '/', transaction([
        { resource: observationFor('pat-a'), request: { method: 'POST', url: 'Observation' } },
        { resource: observationFor('pat-b', { id: 'obs-b-lab', code: { text: 'overwritten' } }), request: { method: 'PUT', url: 'Observation/obs-b-lab' } },
      ]));
      assert.ok(answer.status === 403 || answer.status === 404, answer.text);
      assert.equal((await server.request('GET', '/Observation/obs-b-lab')).body.code.text, 'laboratory');
      assert.equal(await count('/Observation?identifier=urn:attack|pat-b'), 0);
    });

    test("SMART: a patient-confined token reads nothing of another patient's through a batch", async () => {
      const answer = await bearer(server, confined, 'POST', '/', batch([
        { request: { method: 'GET', url: 'Patient/pat-b' } },
        { request: { method: 'GET', url: 'Observation/obs-b-lab' } },
        { request: { method: 'GET', url: 'Observation?subject=Patient/pat-b' } },
        { request: { method: 'GET', url: 'Observation/obs-a-lab' } },
        { request: { method: 'DELETE', url: 'Observation/obs-b-vital' } },
        { request: { method: 'DELETE', url: 'Observation?subject=Patient/pat-b' } },
      ]));
      assert.equal(answer.status, 200, answer.text);
      const [patient, observation, search, own, deleted, deletedBySearch] = answer.body.entry;
      assert.equal(patient.response.status, '404 Not Found');
      assert.equal(observation.response.status, '404 Not Found');
      assert.deepEqual(ids(search.resource), []);
      assert.equal(own.response.status, '200 OK');
      assert.equal(deleted.response.status, '404 Not Found');
      assert.equal(deletedBySearch.response.status, '204 No Content', 'the search finds nothing of pat-b to delete');
      assert.equal((await server.request('GET', '/Observation/obs-b-vital')).status, 200);
      assert.doesNotMatch(answer.text, /Brook|obs-b-lab"/);
    });

    test("SMART: a conditional reference does not resolve to another patient's resource (no existence oracle)", async () => {
      const answer = await bearer(server, confined, 'POST', '/', transaction([
        { resource: observationFor('pat-a', { hasMember: [{ reference: 'Observation?_id=obs-b-lab' }] }), request: { method: 'POST', url: 'Observation' } },
      ]));
      assertOutcome(answer, 412, /matches no resource/);
    });

    test('SMART: compartment search answers the token its own compartment, and nothing of another', async () => {
      const own = await bearer(server, confined, 'GET', '/Patient/pat-a/Observation');
      assert.equal(own.status, 200, own.text);
      assert.ok(ids(own.body).includes('obs-a-lab'));
      assert.ok(!ids(own.body).includes('obs-b-lab'));
      const other = await bearer(server, confined, 'GET', '/Patient/pat-b/Observation');
      assert.equal(other.status, 200, other.text);
      assert.deepEqual(ids(other.body), []);
    });

    test('SMART: type and system history list only what the token may see', async () => {
      const typeHistory = await bearer(server, confined, 'GET', '/Observation/_history');
      assert.equal(typeHistory.status, 200, typeHistory.text);
      const subjects = typeHistory.body.entry.map((entry: any) => entry.resource?.subject?.reference);
      assert.ok(subjects.length > 0);
      assert.ok(subjects.every((subject: string) => subject === 'Patient/pat-a'), JSON.stringify(subjects));
      const system = await bearer(server, confined, 'GET', '/_history');
      assert.equal(system.status, 200, system.text);
      assert.doesNotMatch(system.text, /pat-b|Brook/);
    });
  });
}
