import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertOutcome } from '../helpers/outcome.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

for (const engine of engines()) {
  describe(`history and vread (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      await server.request('PUT', '/Patient/h', { body: { resourceType: 'Patient', gender: 'male' } });
      await server.request('PUT', '/Patient/h', { body: { resourceType: 'Patient', gender: 'female' } });
      await server.request('DELETE', '/Patient/h');
      await server.request('PUT', '/Patient/h', { body: { resourceType: 'Patient', gender: 'other' } });
    });
    after(() => server.close());

    test('_history lists every version newest first, deletions included', async () => {
      const history = await server.request('GET', '/Patient/h/_history');
      assert.equal(history.status, 200);
      assert.equal(history.body.resourceType, 'Bundle');
      assert.equal(history.body.type, 'history');
      assert.equal(history.body.total, 4);
      const entries = history.body.entry;
      assert.deepEqual(entries.map((entry: any) => entry.response.etag), ['W/"4"', 'W/"3"', 'W/"2"', 'W/"1"']);
      assert.deepEqual(entries.map((entry: any) => entry.request.method), ['POST', 'DELETE', 'PUT', 'POST']);
      assert.equal(entries[1].resource, undefined, 'a deletion carries no resource');
      assert.equal(entries[0].resource.gender, 'other');
      assert.equal(entries[3].resource.gender, 'male');
    });

    test('_history pages with _count and _page', async () => {
      const page = await server.request('GET', '/Patient/h/_history?_count=3&_page=2');
      assert.equal(page.body.entry.length, 1);
      assert.equal(page.body.entry[0].response.etag, 'W/"1"');
      const relations = page.body.link.map((link: any) => link.relation);
      assert.ok(relations.includes('previous'));
      assert.ok(!relations.includes('next'));
    });

    test('vread returns each old version as it was, with its ETag', async () => {
      const first = await server.request('GET', '/Patient/h/_history/1');
      assert.equal(first.status, 200);
      assert.equal(first.body.gender, 'male');
      assert.equal(first.body.meta.versionId, '1');
      assert.equal(first.headers.get('etag'), 'W/"1"');
      assert.equal((await server.request('GET', '/Patient/h/_history/2')).body.gender, 'female');
    });

    test('vread of a deletion answers 410', async () => {
      assertOutcome(await server.request('GET', '/Patient/h/_history/3'), 410, /Version 3 of Patient\/h is a deletion/);
    });

    test('vread of a version that does not exist answers 404, also for a non-numeric version', async () => {
      assertOutcome(await server.request('GET', '/Patient/h/_history/99'), 404, /Patient\/h has no version "99"/);
      assertOutcome(await server.request('GET', '/Patient/h/_history/abc'), 404, /has no version "abc"/);
    });

    test('_history of a resource that never existed answers 404', async () => {
      assertOutcome(await server.request('GET', '/Patient/nobody/_history'), 404, /Patient\/nobody not found/);
    });

    test('the history of a deleted resource is still readable', async () => {
      await server.request('PUT', '/Patient/h-gone', { body: { resourceType: 'Patient' } });
      await server.request('DELETE', '/Patient/h-gone');
      const history = await server.request('GET', '/Patient/h-gone/_history');
      assert.equal(history.status, 200);
      assert.equal(history.body.total, 2);
    });
  });
}
