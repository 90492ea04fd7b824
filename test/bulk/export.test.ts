// Bulk Data Access 2.0 export (HL7 FHIR Bulk Data IG): a SMART backend-services client (client_credentials with
// private_key_jwt, system/ scopes) from kick-off to NDJSON download, at the system, Patient and Group levels,
// with _type, _since and _typeFilter; cancelling; errors as OperationOutcome.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertionKey, backendToken, type AssertionKey } from '../helpers/oauth.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { CATEGORY, put, seedClinicalData, smartPolicyFor } from '../smart/fixtures.ts';
import { ASYNC, exported, get, kickOff, manifestOf } from './fixtures.ts';

const CLINICAL = ['Encounter/enc-a', 'Observation/obs-a-lab', 'Observation/obs-a-vital', 'Observation/obs-b-lab', 'Observation/obs-b-vital', 'Patient/pat-a', 'Patient/pat-b'];

for (const engine of engines()) {
  describe(`Bulk Data export (${engine})`, () => {
    let server: TestServer;
    let key: AssertionKey;
    let token: string;

    before(async () => {
      // Small chunks, so a file is several stored parts.
      server = await startTestServer(engine, { bulkExport: { chunkSize: 2, leaseSeconds: 60, retentionSeconds: 3600, pollMs: 50, runJobs: true } });
      key = await assertionKey();
      await seedClinicalData(server);
      await put(server, { resourceType: 'Client', id: 'exporter', grant_types: ['client_credentials'], jwks: { keys: [key.jwk] }, scope: ['system/*.rs'] } as never);
      await smartPolicyFor(server, 'exporter');
      await put(server, { resourceType: 'Group', id: 'cohort', type: 'person', actual: true, member: [{ entity: { reference: 'Patient/pat-b' } }] } as never);
      const issued = await backendToken(server, key, 'exporter', 'system/*.rs');
      assert.equal(issued.status, 200, issued.text);
      token = issued.body.access_token;
    });
    after(() => server.close());

    test('a backend-services client exports the whole system, from kick-off to NDJSON', async () => {
      const status = await kickOff(server, '/$export', token);
      const manifest = await manifestOf(server, status, token);
      assert.equal(manifest.requiresAccessToken, true);
      assert.equal(manifest.request, `${server.url}/$export`);
      assert.ok(!Number.isNaN(Date.parse(manifest.transactionTime)));
      assert.deepEqual(manifest.error, []);
      const ids = await exported(server, manifest, token);
      assert.deepEqual(ids, [...CLINICAL, 'Group/cohort'].sort());
      assert.ok(!ids.some((id) => /^(Client|User|AccessPolicy|Session)\//.test(id)), 'IAM resources are never exported');
    });

    test('_type names the types exported', async () => {
      const manifest = await manifestOf(server, await kickOff(server, '/$export?_type=Patient,Encounter', token), token);
      assert.deepEqual(manifest.output.map((file) => file.type), ['Encounter', 'Patient']);
      assert.deepEqual(await exported(server, manifest, token), ['Encounter/enc-a', 'Patient/pat-a', 'Patient/pat-b']);
    });

    test('_typeFilter narrows a type by a search', async () => {
      const filter = encodeURIComponent(`Observation?category=${CATEGORY}|laboratory`);
      const manifest = await manifestOf(server, await kickOff(server, `/$export?_type=Observation&_typeFilter=${filter}`, token), token);
      assert.deepEqual(await exported(server, manifest, token), ['Observation/obs-a-lab', 'Observation/obs-b-lab']);
    });

    test('_since exports only what changed after it', async () => {
      const first = await manifestOf(server, await kickOff(server, '/$export?_type=Patient', token), token);
      await put(server, { resourceType: 'Patient', id: 'pat-b', name: [{ family: 'Brook', given: ['Robert'] }] } as never);
      const since = encodeURIComponent(first.transactionTime);
      const manifest = await manifestOf(server, await kickOff(server, `/$export?_type=Patient,Observation&_since=${since}`, token), token);
      assert.deepEqual(await exported(server, manifest, token), ['Patient/pat-b']);
    });

    test('Patient/$export exports the compartments of every patient', async () => {
      await put(server, { resourceType: 'Organization', id: 'org-1', name: 'Not a patient resource' } as never);
      const manifest = await manifestOf(server, await kickOff(server, '/Patient/$export', token), token);
      // A Group is in the compartment of its members (R4 CompartmentDefinition "Patient": Group.member).
      assert.deepEqual(await exported(server, manifest, token), [...CLINICAL, 'Group/cohort'].sort());
    });

    test('Group/{id}/$export exports the compartments of its members only', async () => {
      const manifest = await manifestOf(server, await kickOff(server, '/Group/cohort/$export', token), token);
      assert.deepEqual(await exported(server, manifest, token), ['Group/cohort', 'Observation/obs-b-lab', 'Observation/obs-b-vital', 'Patient/pat-b']);
      assert.equal((await get(server, '/Group/nobody/$export', token, ASYNC)).status, 404);
    });

    test('DELETE on the status URL cancels the export and deletes its output', async () => {
      const status = await kickOff(server, '/$export', token);
      const cancelled = await server.request('DELETE', status, { auth: null, headers: { authorization: `Bearer ${token}` } });
      assert.equal(cancelled.status, 202, cancelled.text);
      assert.equal((await get(server, status, token)).status, 404);
      const again = await server.request('DELETE', status, { auth: null, headers: { authorization: `Bearer ${token}` } });
      assert.equal(again.status, 404);
    });

    test('a kick-off without Prefer: respond-async, or with an unsupported parameter or format, is 400 with an OperationOutcome', async () => {
      for (const [path, headers, expression] of [
        ['/$export', {}, 'Prefer'],
        ['/$export?_outputFormat=application/json', ASYNC, '_outputFormat'],
        ['/$export?_type=Client', ASYNC, '_type'],
        ['/$export?_since=yesterday', ASYNC, '_since'],
        ['/$export?_typeFilter=Observation%3Fnope%3D1', ASYNC, 'nope'],
        ['/$export?_elements=id', ASYNC, '_elements'],
        ['/Patient/$export?_type=Organization', ASYNC, '_type'],
      ] as const) {
        const response = await get(server, path, token, headers);
        assert.equal(response.status, 400, `${path}: ${response.text}`);
        assert.equal(response.body.resourceType, 'OperationOutcome');
        assert.deepEqual(response.body.issue[0].expression, [expression], path);
      }
      const lenient = await get(server, '/$export?_elements=id&_type=Group', token, { ...ASYNC, prefer: 'respond-async, handling=lenient' });
      assert.equal(lenient.status, 202, lenient.text);
    });

    test('HEAD on a kick-off URL starts no export (RFC 9110 §9.2.1: HEAD is safe)', async () => {
      for (const path of ['/$export', '/Patient/$export', '/Group/cohort/$export']) {
        const response = await server.request('HEAD', path, { auth: null, headers: { authorization: `Bearer ${token}`, ...ASYNC } });
        assert.notEqual(response.status, 202, path);
        assert.equal(response.headers.get('content-location'), null, path);
      }
    });

    test('_outputFormat accepts the three NDJSON names', async () => {
      for (const format of ['application/fhir+ndjson', 'application/ndjson', 'ndjson']) {
        const response = await get(server, `/$export?_type=Group&_outputFormat=${encodeURIComponent(format)}`, token, ASYNC);
        assert.equal(response.status, 202, `${format}: ${response.text}`);
      }
    });
  });
}
