import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertOutcome } from '../helpers/outcome.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const transaction = (entry: unknown[]) => ({ resourceType: 'Bundle', type: 'transaction', entry });
const batch = (entry: unknown[]) => ({ resourceType: 'Bundle', type: 'batch', entry });
const post = (fullUrl: string, resource: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  fullUrl,
  resource,
  request: { method: 'POST', url: resource.resourceType, ...extra },
});

async function countOf(server: TestServer, search: string): Promise<number> {
  const found = await server.request('GET', `${search}${search.includes('?') ? '&' : '?'}_count=0`);
  assert.equal(found.status, 200, found.text);
  return found.body.total;
}

for (const engine of engines()) {
  describe(`batch and transaction Bundles (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { bundle: { bodyLimit: 32 * 1024 * 1024, maxEntries: 600 } });
    });
    after(() => server.close());

    test('a transaction rewrites urn:uuid references everywhere, nested ones included', async () => {
      const patient = 'urn:uuid:0b5e7c6a-1111-4aaa-8bbb-000000000001';
      const encounter = 'urn:uuid:0b5e7c6a-1111-4aaa-8bbb-000000000002';
      const answer = await server.request('POST', '/', {
        body: transaction([
          post(encounter, { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: patient } }),
          post(patient, { resourceType: 'Patient', identifier: [{ system: 'urn:test', value: 'rewrite-1' }] }),
          post('urn:uuid:0b5e7c6a-1111-4aaa-8bbb-000000000003', {
            resourceType: 'Observation',
            status: 'final',
            code: { text: 'weight' },
            subject: { reference: patient },
            encounter: { reference: encounter },
            extension: [{ url: 'urn:test:ext', valueReference: { reference: patient } }],
          }),
        ]),
      });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.type, 'transaction-response');
      const [enc, pat, obs] = answer.body.entry;
      assert.equal(pat.response.status, '201 Created');
      assert.match(pat.response.location, /^Patient\/[^/]+\/_history\/1$/);
      assert.equal(pat.response.etag, 'W/"1"');
      assert.ok(pat.response.lastModified);
      const patientRef = `Patient/${pat.resource.id}`;
      assert.equal(enc.resource.subject.reference, patientRef);
      assert.equal(obs.resource.subject.reference, patientRef);
      assert.equal(obs.resource.encounter.reference, `Encounter/${enc.resource.id}`);
      assert.equal(obs.resource.extension[0].valueReference.reference, patientRef);
      const stored = await server.request('GET', `/Observation/${obs.resource.id}`);
      assert.equal(stored.body.subject.reference, patientRef);
      assert.equal(await countOf(server, `/Observation?subject=${patientRef}`), 1);
    });

    test('a transaction whose 500th entry is invalid stores nothing, though 499 were written before it', async () => {
      const entries = Array.from({ length: 499 }, (_, i) => post(`urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, {
        resourceType: 'Patient',
        identifier: [{ system: 'urn:rollback', value: String(i) }],
      }));
      // An update: carried out after every create (FHIR's order), so it fails inside the database transaction.
      entries.push({
        resource: { resourceType: 'Patient', id: 'rollback-bad', identifier: [{ system: 'urn:rollback', value: 'bad' }], birthDate: 'not-a-date' },
        request: { method: 'PUT', url: 'Patient/rollback-bad' },
      } as never);
      const answer = await server.request('POST', '/', { body: transaction(entries) });
      assertOutcome(answer, 422, /Bundle\.entry\[499\]/);
      assert.equal(await countOf(server, '/Patient?identifier=urn:rollback|'), 0);
      assert.equal(await countOf(server, '/Patient?identifier=urn:rollback|0'), 0);
    });

    test('a conditional reference resolves to its one match, and fails the transaction (or its batch entry) on none or several', async () => {
      await server.request('PUT', '/Patient/cond-ref', { body: { resourceType: 'Patient', identifier: [{ system: 'urn:cr', value: 'one' }] } });
      await server.request('PUT', '/Patient/cond-ref-a', { body: { resourceType: 'Patient', identifier: [{ system: 'urn:cr', value: 'two' }] } });
      await server.request('PUT', '/Patient/cond-ref-b', { body: { resourceType: 'Patient', identifier: [{ system: 'urn:cr', value: 'two' }] } });
      const observation = (reference: string) =>
        post('urn:uuid:0c000000-0000-4000-8000-000000000001', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference } });
      const one = await server.request('POST', '/', { body: transaction([observation('Patient?identifier=urn:cr|one')]) });
      assert.equal(one.status, 200, one.text);
      assert.equal(one.body.entry[0].resource.subject.reference, 'Patient/cond-ref');
      assertOutcome(await server.request('POST', '/', { body: transaction([observation('Patient?identifier=urn:cr|none')]) }), 412, /matches no resource/);
      assertOutcome(await server.request('POST', '/', { body: transaction([observation('Patient?identifier=urn:cr|two')]) }), 412, /more than one/);
      const inBatch = await server.request('POST', '/', { body: batch([observation('Patient?identifier=urn:cr|one'), observation('Patient?identifier=urn:cr|two')]) });
      assert.equal(inBatch.status, 200, inBatch.text);
      assert.equal(inBatch.body.entry[0].resource.subject.reference, 'Patient/cond-ref');
      assert.equal(inBatch.body.entry[1].response.status, '412 Precondition Failed');
    });

    test('If-None-Exist in a transaction points the fullUrl at the resource that exists', async () => {
      await server.request('PUT', '/Patient/ine', { body: { resourceType: 'Patient', identifier: [{ system: 'urn:ine', value: '1' }] } });
      const patient = 'urn:uuid:0d000000-0000-4000-8000-000000000001';
      const answer = await server.request('POST', '/', {
        body: transaction([
          post(patient, { resourceType: 'Patient', identifier: [{ system: 'urn:ine', value: '1' }] }, { ifNoneExist: 'identifier=urn:ine|1' }),
          post('urn:uuid:0d000000-0000-4000-8000-000000000002', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: patient } }),
        ]),
      });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.entry[0].response.status, '200 OK');
      assert.equal(answer.body.entry[1].resource.subject.reference, 'Patient/ine');
      assert.equal(await countOf(server, '/Patient?identifier=urn:ine|1'), 1);
    });

    test('a batch answers each entry on its own', async () => {
      const answer = await server.request('POST', '/', {
        body: batch([
          { resource: { resourceType: 'Patient', id: 'batch-1' }, request: { method: 'PUT', url: 'Patient/batch-1' } },
          { resource: { resourceType: 'Patient', birthDate: 'nope' }, request: { method: 'POST', url: 'Patient' } },
          { request: { method: 'GET', url: 'Patient/batch-1' } },
          { request: { method: 'GET', url: 'Patient?_id=batch-1' } },
          { request: { method: 'FETCH', url: 'Patient' } },
        ]),
      });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.type, 'batch-response');
      const statuses = answer.body.entry.map((entry: any) => entry.response.status);
      assert.deepEqual(statuses, ['201 Created', '422 Unprocessable Entity', '200 OK', '200 OK', '400 Bad Request']);
      assert.equal(answer.body.entry[1].response.outcome.resourceType, 'OperationOutcome');
      assert.equal(answer.body.entry[3].resource.type, 'searchset');
      assert.equal(answer.body.entry[3].resource.entry.length, 1);
    });

    test('entries are processed deletes first, then creates, updates and reads', async () => {
      await server.request('PUT', '/Patient/order-1', { body: { resourceType: 'Patient' } });
      const answer = await server.request('POST', '/', {
        body: transaction([
          { request: { method: 'GET', url: 'Patient/order-2' } },
          { resource: { resourceType: 'Patient', id: 'order-2', gender: 'female' }, request: { method: 'PUT', url: 'Patient/order-2' } },
          { request: { method: 'DELETE', url: 'Patient/order-1' } },
        ]),
      });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.entry[0].resource.gender, 'female', 'the read sees the update made before it');
      assert.equal(answer.body.entry[2].response.status, '200 OK');
    });

    test('a Bundle with more entries than the limit is 413', async () => {
      const entries = Array.from({ length: 601 }, () => ({ request: { method: 'GET', url: 'Patient/x' } }));
      assertOutcome(await server.request('POST', '/', { body: batch(entries) }), 413, /more than the limit of 600/);
    });

    test('what is not a batch or transaction Bundle is 400', async () => {
      assertOutcome(await server.request('POST', '/', { body: { resourceType: 'Patient' } }), 400, /takes a Bundle/);
      assertOutcome(await server.request('POST', '/', { body: { resourceType: 'Bundle', type: 'searchset' } }), 400, /batch or transaction/);
      assertOutcome(await server.request('POST', '/', { body: transaction([{ request: { method: 'POST', url: 'Nope' } }]) }), 404, /Unknown resource type/);
    });

    test('two transactions creating the same conditional resource at once make one', async () => {
      const create = () =>
        server.request('POST', '/', {
          body: transaction([post('urn:uuid:0e000000-0000-4000-8000-000000000001', { resourceType: 'Patient', identifier: [{ system: 'urn:race', value: '1' }] }, { ifNoneExist: 'identifier=urn:race|1' })]),
        });
      const answers = await Promise.all([create(), create(), create()]);
      for (const answer of answers) assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answers.map((a) => a.body.entry[0].response.status).sort(), ['200 OK', '200 OK', '201 Created']);
      assert.equal(await countOf(server, '/Patient?identifier=urn:race|1'), 1);
    });
  });
}
