import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertOutcome } from '../helpers/outcome.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const WRITERS = 20;

for (const engine of engines()) {
  describe(`optimistic locking and concurrent writers (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      // These tests race writers on the version chain; their bodies (arbitrary keys) are not FHIR, so validation is off.
      server = await startTestServer(engine, { validateWrites: false });
    });
    after(() => server.close());

    test('PUT with If-Match of the current version succeeds and gives the next ETag', async () => {
      await server.request('PUT', '/Patient/lock', { body: { resourceType: 'Patient' } });
      const updated = await server.request('PUT', '/Patient/lock', { body: { resourceType: 'Patient', active: true }, headers: { 'if-match': 'W/"1"' } });
      assert.equal(updated.status, 200);
      assert.equal(updated.headers.get('etag'), 'W/"2"');
    });

    test('PUT with a stale If-Match answers 412 and writes nothing', async () => {
      await server.request('PUT', '/Patient/stale', { body: { resourceType: 'Patient', gender: 'male' } });
      await server.request('PUT', '/Patient/stale', { body: { resourceType: 'Patient', gender: 'female' } });
      const stale = await server.request('PUT', '/Patient/stale', { body: { resourceType: 'Patient', gender: 'other' }, headers: { 'if-match': 'W/"1"' } });
      assertOutcome(stale, 412, /If-Match names version 1 but Patient\/stale is at version 2/);
      const read = await server.request('GET', '/Patient/stale');
      assert.equal(read.body.gender, 'female');
      assert.equal(read.body.meta.versionId, '2');
    });

    test('PUT with If-Match on a resource that does not exist answers 412 and creates nothing', async () => {
      const response = await server.request('PUT', '/Patient/absent', { body: { resourceType: 'Patient' }, headers: { 'if-match': 'W/"1"' } });
      assertOutcome(response, 412, /does not exist/);
      assert.equal((await server.request('GET', '/Patient/absent')).status, 404);
    });

    test('DELETE with a stale If-Match answers 412 and the resource stays', async () => {
      await server.request('PUT', '/Patient/del-lock', { body: { resourceType: 'Patient' } });
      await server.request('PUT', '/Patient/del-lock', { body: { resourceType: 'Patient' } });
      assertOutcome(await server.request('DELETE', '/Patient/del-lock', { headers: { 'if-match': 'W/"1"' } }), 412, /at version 2/);
      assert.equal((await server.request('GET', '/Patient/del-lock')).status, 200);
    });

    test('a malformed If-Match answers 400', async () => {
      await server.request('PUT', '/Patient/bad-match', { body: { resourceType: 'Patient' } });
      assertOutcome(await server.request('PUT', '/Patient/bad-match', { body: { resourceType: 'Patient' }, headers: { 'if-match': 'W/""' } }), 400, /Malformed If-Match/);
    });

    test('of concurrent writers with the same If-Match exactly one wins, the others get 412', async () => {
      await server.request('PUT', '/Patient/race', { body: { resourceType: 'Patient' } });
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          server.request('PUT', '/Patient/race', { body: { resourceType: 'Patient', gender: `g${i}` }, headers: { 'if-match': 'W/"1"' } }),
        ),
      );
      const statuses = answers.map((answer) => answer.status).sort();
      assert.deepEqual(statuses, [200, ...Array(9).fill(412)]);
      const history = await server.request('GET', '/Patient/race/_history');
      assert.equal(history.body.total, 2);
    });

    test(`${WRITERS} concurrent merge patches without If-Match each add their key and none is lost`, async () => {
      await server.request('PUT', '/Patient/merge-race', { body: { resourceType: 'Patient', extension: [] } });
      const answers = await Promise.all(
        Array.from({ length: WRITERS }, (_, i) =>
          server.request('PATCH', '/Patient/merge-race', {
            raw: JSON.stringify({ [`key${i}`]: i }),
            contentType: 'application/merge-patch+json',
          }),
        ),
      );
      assert.deepEqual(answers.map((answer) => answer.status), Array(WRITERS).fill(200));
      const final = (await server.request('GET', '/Patient/merge-race')).body;
      for (let i = 0; i < WRITERS; i++) assert.equal(final[`key${i}`], i, `key${i} survived`);
      assert.equal(final.meta.versionId, String(WRITERS + 1));
      const history = await server.request('GET', '/Patient/merge-race/_history?_count=1000');
      assert.equal(history.body.total, WRITERS + 1);
      const versions = history.body.entry.map((entry: any) => Number(entry.response.etag.match(/\d+/)[0]));
      assert.deepEqual(versions, Array.from({ length: WRITERS + 1 }, (_, i) => WRITERS + 1 - i));
    });

    test(`${WRITERS} concurrent JSON Patches appending to one array all land`, async () => {
      await server.request('PUT', '/Patient/append-race', { body: { resourceType: 'Patient', name: [] } });
      const answers = await Promise.all(
        Array.from({ length: WRITERS }, (_, i) =>
          server.request('PATCH', '/Patient/append-race', {
            raw: JSON.stringify([{ op: 'add', path: '/name/-', value: { family: `f${i}` } }]),
            contentType: 'application/json-patch+json',
          }),
        ),
      );
      assert.deepEqual(answers.map((answer) => answer.status), Array(WRITERS).fill(200));
      const final = (await server.request('GET', '/Patient/append-race')).body;
      assert.deepEqual(final.name.map((n: any) => n.family).sort(), Array.from({ length: WRITERS }, (_, i) => `f${i}`).sort());
    });

    test(`${WRITERS} concurrent PUTs without If-Match each make their own version`, async () => {
      await server.request('PUT', '/Patient/put-race', { body: { resourceType: 'Patient' } });
      const answers = await Promise.all(
        Array.from({ length: WRITERS }, (_, i) =>
          server.request('PUT', '/Patient/put-race', { body: { resourceType: 'Patient', gender: `g${i}` } }),
        ),
      );
      assert.deepEqual(answers.map((answer) => answer.status), Array(WRITERS).fill(200));
      const versions = answers.map((answer) => Number(answer.body.meta.versionId)).sort((a, b) => a - b);
      assert.deepEqual(versions, Array.from({ length: WRITERS }, (_, i) => i + 2));
      const history = await server.request('GET', '/Patient/put-race/_history?_count=1000');
      assert.equal(history.body.total, WRITERS + 1);
      const gendersInHistory = history.body.entry.slice(0, WRITERS).map((entry: any) => entry.resource.gender).sort();
      assert.deepEqual(gendersInHistory, answers.map((answer) => answer.body.gender).sort());
    });

    test(`${WRITERS} concurrent PUTs creating one new resource: one 201, the rest updates`, async () => {
      const answers = await Promise.all(
        Array.from({ length: WRITERS }, () => server.request('PUT', '/Patient/create-race', { body: { resourceType: 'Patient' } })),
      );
      const statuses = answers.map((answer) => answer.status).sort();
      assert.deepEqual(statuses, [201, ...Array(WRITERS - 1).fill(200)].sort());
      assert.equal((await server.request('GET', '/Patient/create-race/_history?_count=1000')).body.total, WRITERS);
    });
  });
}
