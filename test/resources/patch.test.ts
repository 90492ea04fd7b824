import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertOutcome } from '../helpers/outcome.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const JSON_PATCH = 'application/json-patch+json';
const MERGE_PATCH = 'application/merge-patch+json';

for (const engine of engines()) {
  describe(`PATCH (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
    });
    after(() => server.close());

    const put = (id: string, body: object) => server.request('PUT', `/Patient/${id}`, { body: { resourceType: 'Patient', ...body } });
    const patch = (id: string, body: unknown, contentType: string, headers: Record<string, string> = {}) =>
      server.request('PATCH', `/Patient/${id}`, { raw: JSON.stringify(body), contentType, headers });

    test('a JSON Patch adds, replaces and removes fields and makes a new version', async () => {
      await put('jp', { active: true, gender: 'male', birthDate: '1970-01-01' });
      const patched = await patch('jp', [
        { op: 'replace', path: '/gender', value: 'female' },
        { op: 'remove', path: '/birthDate' },
        { op: 'add', path: '/name', value: [{ family: 'Doe' }] },
      ], JSON_PATCH);
      assert.equal(patched.status, 200);
      assert.equal(patched.body.meta.versionId, '2');
      assert.equal(patched.body.gender, 'female');
      assert.equal(patched.body.birthDate, undefined);
      assert.deepEqual(patched.body.name, [{ family: 'Doe' }]);
      assert.deepEqual((await server.request('GET', '/Patient/jp')).body, patched.body);
    });

    test('a patch keeps the meta it does not change: profiles, tags and security labels stay', async () => {
      const meta = { profile: ['http://hl7.org/fhir/StructureDefinition/Patient'], tag: [{ system: 'urn:t', code: 'keep' }], security: [{ system: 'urn:s', code: 'R' }] };
      await put('pm', { active: true, meta });
      for (const [body, contentType] of [[[{ op: 'replace', path: '/active', value: false }], JSON_PATCH], [{ gender: 'other' }, MERGE_PATCH]] as const) {
        const patched = await patch('pm', body, contentType);
        assert.equal(patched.status, 200, patched.text);
        assert.deepEqual(patched.body.meta.profile, meta.profile);
        assert.deepEqual(patched.body.meta.tag, meta.tag);
        assert.deepEqual(patched.body.meta.security, meta.security);
      }
      const tagged = await patch('pm', [{ op: 'add', path: '/meta/tag/-', value: { system: 'urn:t', code: 'added' } }], JSON_PATCH);
      assert.equal(tagged.status, 200, tagged.text);
      assert.deepEqual(tagged.body.meta.tag.map((tag: { code: string }) => tag.code), ['keep', 'added']);
      assert.equal(tagged.body.meta.versionId, '4');
    });

    test('a merge patch sets fields and removes those given null', async () => {
      await put('mp', { active: true, gender: 'male' });
      const patched = await patch('mp', { gender: null, birthDate: '1980-02-02' }, MERGE_PATCH);
      assert.equal(patched.status, 200);
      assert.equal(patched.body.gender, undefined);
      assert.equal(patched.body.birthDate, '1980-02-02');
      assert.equal(patched.body.active, true);
    });

    test('a JSON Patch whose test operation fails answers 422 and writes nothing', async () => {
      await put('jp-test', { gender: 'male' });
      const failed = await patch('jp-test', [
        { op: 'test', path: '/gender', value: 'female' },
        { op: 'replace', path: '/gender', value: 'other' },
      ], JSON_PATCH);
      assertOutcome(failed, 422, /JSON Patch test failed at operation 0/);
      const read = await server.request('GET', '/Patient/jp-test');
      assert.equal(read.body.gender, 'male');
      assert.equal(read.body.meta.versionId, '1');
    });

    test('a JSON Patch with an unknown operation answers 400', async () => {
      await put('jp-bad', {});
      assertOutcome(await patch('jp-bad', [{ op: 'frobnicate', path: '/a' }], JSON_PATCH), 400, /Invalid JSON Patch at operation 0/);
    });

    test('a JSON Patch body that is not an array answers 400', async () => {
      await put('jp-obj', {});
      assertOutcome(await patch('jp-obj', { op: 'add' }, JSON_PATCH), 400, /must be an array of operations/);
    });

    test('a JSON Patch removing a missing path answers 400 and writes nothing', async () => {
      await put('jp-missing', {});
      assertOutcome(await patch('jp-missing', [{ op: 'remove', path: '/nothing/here' }], JSON_PATCH), 400, /Invalid JSON Patch/);
      assert.equal((await server.request('GET', '/Patient/jp-missing')).body.meta.versionId, '1');
    });

    test('a patch that changes the id is refused and writes nothing', async () => {
      await put('keep-id', {});
      assertOutcome(await patch('keep-id', [{ op: 'replace', path: '/id', value: 'other' }], JSON_PATCH), 400, /id "other" does not match the URL's id "keep-id"/);
      assertOutcome(await patch('keep-id', { id: 'other' }, MERGE_PATCH), 400, /does not match the URL's id/);
      assert.equal((await server.request('GET', '/Patient/other')).status, 404);
      assert.equal((await server.request('GET', '/Patient/keep-id')).body.meta.versionId, '1');
    });

    test('a patch that changes the resourceType is refused and writes nothing', async () => {
      await put('keep-type', {});
      assertOutcome(await patch('keep-type', [{ op: 'replace', path: '/resourceType', value: 'Encounter' }], JSON_PATCH), 400, /resourceType "Encounter" does not match/);
      assertOutcome(await patch('keep-type', { resourceType: 'Encounter' }, MERGE_PATCH), 400, /resourceType "Encounter" does not match/);
      assert.equal((await server.request('GET', '/Encounter/keep-type')).status, 404);
      assert.equal((await server.request('GET', '/Patient/keep-type')).body.meta.versionId, '1');
    });

    test('PATCH of a resource that does not exist answers 404, of a deleted one 410', async () => {
      assertOutcome(await patch('no-such', { active: true }, MERGE_PATCH), 404, /not found/);
      await put('patched-gone', {});
      await server.request('DELETE', '/Patient/patched-gone');
      assertOutcome(await patch('patched-gone', { active: true }, MERGE_PATCH), 410, /was deleted/);
    });

    test('PATCH with an If-Match of the current version succeeds, a stale one answers 412', async () => {
      await put('patch-match', {});
      await put('patch-match', { active: true });
      assertOutcome(await patch('patch-match', { gender: 'male' }, MERGE_PATCH, { 'if-match': 'W/"1"' }), 412, /If-Match names version 1 but Patient\/patch-match is at version 2/);
      const ok = await patch('patch-match', { gender: 'male' }, MERGE_PATCH, { 'if-match': 'W/"2"' });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.meta.versionId, '3');
    });
  });
}
