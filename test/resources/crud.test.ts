import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

for (const engine of engines()) {
  describe(`resource CRUD (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
    });
    after(() => server.close());

    test('POST creates a resource with the id from the body and answers 201 with Location and ETag', async () => {
      const created = await server.request('POST', '/Patient', { body: { resourceType: 'Patient', id: 'pt-1', active: true } });
      assert.equal(created.status, 201);
      assert.equal(created.body.id, 'pt-1');
      assert.equal(created.body.meta.versionId, '1');
      assert.equal(created.headers.get('etag'), 'W/"1"');
      assert.equal(created.headers.get('location'), `${server.url}/Patient/pt-1/_history/1`);
      const read = await server.request('GET', '/Patient/pt-1');
      assert.equal(read.status, 200);
      assert.deepEqual(read.body, created.body);
    });

    test('POST without an id generates one', async () => {
      const created = await server.request('POST', '/Patient', { body: { resourceType: 'Patient' } });
      assert.equal(created.status, 201);
      assert.match(created.body.id, /^[A-Za-z0-9\-.]{1,64}$/);
    });

    test('PUT creates then updates, each update a new version', async () => {
      const first = await server.request('PUT', '/Patient/pt-put', { body: { resourceType: 'Patient', gender: 'male' } });
      assert.equal(first.status, 201);
      const second = await server.request('PUT', '/Patient/pt-put', { body: { resourceType: 'Patient', gender: 'female' } });
      assert.equal(second.status, 200);
      assert.equal(second.body.meta.versionId, '2');
      assert.equal((await server.request('GET', '/Patient/pt-put')).body.gender, 'female');
    });

    test('DELETE marks the resource gone; a read answers 410', async () => {
      await server.request('PUT', '/Patient/pt-del', { body: { resourceType: 'Patient' } });
      const deleted = await server.request('DELETE', '/Patient/pt-del');
      assert.equal(deleted.status, 200);
      const read = await server.request('GET', '/Patient/pt-del');
      assert.equal(read.status, 410);
      assert.equal(read.body.resourceType, 'OperationOutcome');
    });
  });
}
