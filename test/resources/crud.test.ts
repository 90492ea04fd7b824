import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertOutcome } from '../helpers/outcome.ts';
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
      assert.equal(read.headers.get('etag'), 'W/"1"');
      assert.match(read.headers.get('content-type') ?? '', /^application\/fhir\+json/);
    });

    test('POST without an id generates one', async () => {
      const created = await server.request('POST', '/Patient', { body: { resourceType: 'Patient' } });
      assert.equal(created.status, 201);
      assert.match(created.body.id, /^[A-Za-z0-9\-.]{1,64}$/);
      assert.equal((await server.request('GET', `/Patient/${created.body.id}`)).status, 200);
    });

    test('POST with the id of an existing resource answers 409 and leaves it unchanged', async () => {
      await server.request('POST', '/Patient', { body: { resourceType: 'Patient', id: 'pt-dup', gender: 'male' } });
      const again = await server.request('POST', '/Patient', { body: { resourceType: 'Patient', id: 'pt-dup', gender: 'female' } });
      assertOutcome(again, 409, /Patient\/pt-dup already exists/);
      const read = await server.request('GET', '/Patient/pt-dup');
      assert.equal(read.body.gender, 'male');
      assert.equal(read.body.meta.versionId, '1');
    });

    test('PUT creates then updates, each update a new version', async () => {
      const first = await server.request('PUT', '/Patient/pt-put', { body: { resourceType: 'Patient', gender: 'male' } });
      assert.equal(first.status, 201);
      const second = await server.request('PUT', '/Patient/pt-put', { body: { resourceType: 'Patient', gender: 'female' } });
      assert.equal(second.status, 200);
      assert.equal(second.body.meta.versionId, '2');
      assert.equal(second.headers.get('etag'), 'W/"2"');
      assert.equal((await server.request('GET', '/Patient/pt-put')).body.gender, 'female');
    });

    test('PUT replaces the whole resource: fields left out are gone', async () => {
      await server.request('PUT', '/Patient/pt-replace', { body: { resourceType: 'Patient', gender: 'male', active: true } });
      const updated = await server.request('PUT', '/Patient/pt-replace', { body: { resourceType: 'Patient', active: false } });
      assert.equal(updated.body.gender, undefined);
      assert.equal(updated.body.active, false);
    });

    test('PUT ignores a client-supplied meta.versionId and lastUpdated', async () => {
      const written = await server.request('PUT', '/Patient/pt-meta', {
        body: { resourceType: 'Patient', meta: { versionId: '99', lastUpdated: '2000-01-01T00:00:00Z' } },
      });
      assert.equal(written.body.meta.versionId, '1');
      assert.notEqual(written.body.meta.lastUpdated, '2000-01-01T00:00:00Z');
    });

    test('Prefer: return=minimal answers without a body', async () => {
      const created = await server.request('POST', '/Patient', { body: { resourceType: 'Patient' }, headers: { prefer: 'return=minimal' } });
      assert.equal(created.status, 201);
      assert.equal(created.text, '');
      assert.match(created.headers.get('location') ?? '', /\/Patient\/[^/]+\/_history\/1$/);
    });

    test('GET of a resource that never existed answers 404', async () => {
      assertOutcome(await server.request('GET', '/Patient/never-was'), 404, /Patient\/never-was not found/);
    });

    test('DELETE marks the resource gone; a read answers 410', async () => {
      await server.request('PUT', '/Patient/pt-del', { body: { resourceType: 'Patient' } });
      const deleted = await server.request('DELETE', '/Patient/pt-del');
      assert.equal(deleted.status, 200);
      assert.equal(deleted.headers.get('etag'), 'W/"2"');
      assertOutcome(await server.request('GET', '/Patient/pt-del'), 410, /Patient\/pt-del was deleted/);
    });

    test('DELETE of a resource that never existed answers 404', async () => {
      assertOutcome(await server.request('DELETE', '/Patient/no-such'), 404, /not found/);
    });

    test('a deleted resource can be created again with PUT, continuing its versions', async () => {
      await server.request('PUT', '/Patient/pt-revive', { body: { resourceType: 'Patient' } });
      await server.request('DELETE', '/Patient/pt-revive');
      const revived = await server.request('PUT', '/Patient/pt-revive', { body: { resourceType: 'Patient', active: true } });
      assert.equal(revived.status, 201);
      assert.equal(revived.body.meta.versionId, '3');
      assert.equal((await server.request('GET', '/Patient/pt-revive')).status, 200);
    });

    test('resources of different types may share an id', async () => {
      await server.request('PUT', '/Patient/shared-id', { body: { resourceType: 'Patient' } });
      const other = await server.request('PUT', '/Encounter/shared-id', { body: { resourceType: 'Encounter', status: 'planned', class: { code: 'AMB' } } });
      assert.equal(other.status, 201);
      assert.equal((await server.request('GET', '/Patient/shared-id')).body.resourceType, 'Patient');
    });

    test('a body without resourceType takes the type from the URL', async () => {
      const created = await server.request('POST', '/Patient', { body: { id: 'pt-notype' } });
      assert.equal(created.status, 201);
      assert.equal(created.body.resourceType, 'Patient');
    });
  });
}
