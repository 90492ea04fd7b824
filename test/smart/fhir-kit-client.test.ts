// A generic FHIR client library from npm, fhir-kit-client (Vermonster; Node >= 20), against a real Warden: it
// finds the SMART endpoints on its own, then does CRUD, search, paging and history as a backend service, and
// reads a patient's compartment with the token of a SMART standalone launch.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'fhir-kit-client';
import { CookieBrowser, pkcePair } from '../helpers/browser.ts';
import { createClient, postForm } from '../helpers/oauth.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { authorizeInBrowser, codeOf, smartAuthorizePath } from './browser-launch.ts';
import { clinicianPolicyFor, put, seedClinicalData, smartPolicyFor } from './fixtures.ts';

const SERVICE = { id: 'kit-service', secret: 'kit-service-secret' };
const NURSE = { id: 'kit-nurse', email: 'kit-nurse@example.com', password: 'kit nurse password' };
const CALLBACK = 'https://kit-app.example.org/cb';

/** fhir-kit-client types every answer as a bare FhirResource; the tests read them as what they are. */
const as = <T>(value: Promise<unknown>): Promise<T> => value as Promise<T>;

/** What fhir-kit-client throws for an HTTP error: the status of the answer. */
async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    return (error as { response?: { status: number } }).response?.status ?? 0;
  }
}

for (const engine of engines()) {
  describe(`fhir-kit-client (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      await seedClinicalData(server);
      await createClient(server, { ...SERVICE, grant_types: ['client_credentials'] });
      await put(server, { resourceType: 'AccessPolicy', id: 'kit-service-all', engine: 'matcho', link: [{ resourceType: 'Client', id: SERVICE.id }], matcho: { uri: '#^/(Patient|Observation)' } } as never);
      await put(server, { resourceType: 'User', id: NURSE.id, email: NURSE.email, password: NURSE.password } as never);
      await clinicianPolicyFor(server, NURSE.id);
      await createClient(server, { id: 'kit-app', grant_types: ['authorization_code'], auth: { authorization_code: { redirect_uri: CALLBACK } }, scope: ['launch/patient', 'patient/*.rs'] });
      await smartPolicyFor(server, 'kit-app');
    });
    after(() => server?.close());

    test('finds the SMART authorize and token endpoints by itself', async () => {
      const metadata = await new Client({ baseUrl: server.url }).smartAuthMetadata();
      assert.equal(metadata.authorizeUrl?.toString(), `${server.url}/auth/authorize`);
      assert.equal(metadata.tokenUrl?.toString(), `${server.url}/auth/token`);
    });

    test('a backend service: create, read, update, search with paging, history, delete', async () => {
      const token = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, SERVICE);
      assert.equal(token.status, 200, token.text);
      const client = new Client({ baseUrl: server.url, bearerToken: token.body.access_token });
      const created = await as<{ id: string }>(client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', name: [{ family: 'Kit' }] } }));
      const read = await as<{ name: { family: string }[] }>(client.read({ resourceType: 'Patient', id: created.id }));
      assert.equal(read.name[0].family, 'Kit');
      await client.update({ resourceType: 'Patient', id: created.id, body: { resourceType: 'Patient', id: created.id, name: [{ family: 'Kitt' }] } });
      const history = await as<{ entry: unknown[] }>(client.history({ resourceType: 'Patient', id: created.id }));
      assert.equal(history.entry.length, 2);
      const firstPage = await as<{ entry: unknown[] }>(client.search({ resourceType: 'Patient', searchParams: { _count: 2, _sort: '_id' } }));
      assert.equal(firstPage.entry.length, 2);
      const secondPage = await as<{ entry: { resource: { id: string } }[] }>(client.nextPage({ bundle: firstPage as never }) as Promise<unknown>);
      assert.equal(secondPage.entry.length, 1, 'three Patients in all');
      await client.delete({ resourceType: 'Patient', id: created.id });
      assert.equal(await statusOf(client.read({ resourceType: 'Patient', id: created.id })), 410);
      assert.equal(await statusOf(client.read({ resourceType: 'Encounter', id: 'enc-a' })), 403, 'no policy for Encounters');
    });

    test('with a SMART launch token: the patient\'s compartment, and no other patient', async () => {
      const { verifier, challenge } = pkcePair();
      const path = smartAuthorizePath(server.url, { client_id: 'kit-app', redirect_uri: CALLBACK, code_challenge: challenge, scope: 'launch/patient patient/*.rs' });
      const code = codeOf(await authorizeInBrowser(new CookieBrowser(server.url), path, NURSE, { patient: 'pat-b' }), CALLBACK);
      const token = await postForm(server, '/auth/token', { grant_type: 'authorization_code', code, client_id: 'kit-app', redirect_uri: CALLBACK, code_verifier: verifier });
      assert.equal(token.status, 200, token.text);
      assert.equal(token.body.patient, 'pat-b');
      const client = new Client({ baseUrl: server.url, bearerToken: token.body.access_token });
      const observations = await as<{ entry: { resource: { id: string } }[] }>(client.search({ resourceType: 'Observation', searchParams: { patient: 'pat-b' } }));
      assert.deepEqual(observations.entry.map((entry) => entry.resource.id).sort(), ['obs-b-lab', 'obs-b-vital']);
      assert.equal((await as<{ id: string }>(client.read({ resourceType: 'Patient', id: 'pat-b' }))).id, 'pat-b');
      assert.equal(await statusOf(client.read({ resourceType: 'Patient', id: 'pat-a' })), 404, 'another patient is not there for this token');
    });
  });
}
