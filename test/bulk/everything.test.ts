// Patient/$everything (R4 patient-operation-everything): the Patient and its compartment, with _type, _since,
// start/end, _count and cursor paging; bad parameters are 400 with an OperationOutcome.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, startTestServer, type Response, type TestServer } from '../helpers/server.ts';
import { put, seedClinicalData } from '../smart/fixtures.ts';

type Bundle = { type: string; entry?: { resource: { resourceType: string; id: string } }[]; link: { relation: string; url: string }[] };
const refs = (bundle: Bundle) => (bundle.entry ?? []).map(({ resource }) => `${resource.resourceType}/${resource.id}`);

for (const engine of engines()) {
  describe(`Patient/$everything (${engine})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer(engine);
      await seedClinicalData(server);
      await put(server, { resourceType: 'Encounter', id: 'enc-2019', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/pat-a' }, period: { start: '2019-03-01', end: '2019-03-02' } } as never);
      await put(server, { resourceType: 'Encounter', id: 'enc-2023', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/pat-a' }, period: { start: '2023-06-01', end: '2023-06-01' } } as never);
    });
    after(() => server.close());

    test("answers the Patient first, then its compartment, and nothing of another patient's", async () => {
      const response = await server.request('GET', '/Patient/pat-a/$everything');
      assert.equal(response.status, 200, response.text);
      assert.equal(response.body.type, 'searchset');
      assert.deepEqual(refs(response.body), ['Patient/pat-a', 'Encounter/enc-2019', 'Encounter/enc-2023', 'Encounter/enc-a', 'Observation/obs-a-lab', 'Observation/obs-a-vital']);
    });

    test('the audit trail is not part of the record: AuditEvents come only when _type names them', async () => {
      await server.request('GET', '/Patient/pat-a');
      await server.app.audit.flush();
      const record = await server.request('GET', '/Patient/pat-a/$everything');
      assert.ok(!refs(record.body).some((ref) => ref.startsWith('AuditEvent/')), refs(record.body).join());
      const trail = await server.request('GET', '/Patient/pat-a/$everything?_type=AuditEvent');
      assert.equal(trail.status, 200, trail.text);
      assert.ok(refs(trail.body).length > 0 && refs(trail.body).every((ref) => ref.startsWith('AuditEvent/')), refs(trail.body).join());
    });

    test('_type keeps the named types', async () => {
      const response = await server.request('GET', '/Patient/pat-a/$everything?_type=Observation');
      assert.deepEqual(refs(response.body), ['Observation/obs-a-lab', 'Observation/obs-a-vital']);
    });

    test('start and end keep resources whose care date is in range, on the types that have one', async () => {
      const response = await server.request('GET', '/Patient/pat-a/$everything?_type=Encounter&start=2020-01-01&end=2024-12-31');
      assert.deepEqual(refs(response.body), ['Encounter/enc-2023']);
    });

    test('_since keeps what changed after it', async () => {
      const since = new Date().toISOString();
      await put(server, { resourceType: 'Observation', id: 'obs-a-lab', status: 'amended', code: { text: 'lab' }, subject: { reference: 'Patient/pat-a' } } as never);
      const response = await server.request('GET', `/Patient/pat-a/$everything?_since=${encodeURIComponent(since)}`);
      assert.deepEqual(refs(response.body), ['Observation/obs-a-lab']);
    });

    test('_count pages through the record by next links, each resource once', async () => {
      const seen: string[] = [];
      let path: string | undefined = '/Patient/pat-a/$everything?_count=2';
      for (let pages = 0; path && pages < 10; pages++) {
        const response: Response<Bundle> = await server.request<Bundle>('GET', path);
        assert.equal(response.status, 200, response.text);
        assert.ok(refs(response.body).length <= 2);
        seen.push(...refs(response.body));
        const next = response.body.link.find((link) => link.relation === 'next');
        path = next && next.url.slice(server.url.length);
      }
      assert.deepEqual(seen, ['Patient/pat-a', 'Encounter/enc-2019', 'Encounter/enc-2023', 'Encounter/enc-a', 'Observation/obs-a-lab', 'Observation/obs-a-vital']);
    });

    test('an unknown patient is 404; bad parameters are 400 naming the parameter', async () => {
      assert.equal((await server.request('GET', '/Patient/nobody/$everything')).status, 404);
      for (const [query, name] of [['_type=Organization', '_type'], ['_since=soon', '_since'], ['start=01/02/2020', 'start'], ['_count=0', '_count'], ['_cursor=Patient', '_cursor'], ['page=2', 'page']]) {
        const response = await server.request('GET', `/Patient/pat-a/$everything?${query}`);
        assert.equal(response.status, 400, `${query}: ${response.text}`);
        assert.deepEqual(response.body.issue[0].expression, [name], query);
      }
    });
  });
}
