import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertOutcome } from '../helpers/outcome.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

for (const engine of engines()) {
  describe(`bad requests answer a precise 4xx OperationOutcome and write nothing (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
    });
    after(() => server.close());

    async function assertNothingWritten() {
      const all = await server.request('GET', '/Patient?_total=accurate');
      assert.equal(all.body.total, 0, `no Patient was written: ${all.text}`);
    }

    test('an unknown resource type answers 404', async () => {
      assertOutcome(await server.request('GET', '/Foo/1'), 404, /Unknown resource type "Foo"/);
      assertOutcome(await server.request('POST', '/Foo', { body: { resourceType: 'Foo' } }), 404, /Unknown resource type "Foo"/);
      assertOutcome(await server.request('GET', '/patient'), 404, /Unknown resource type "patient"/);
    });

    test('an id outside [A-Za-z0-9-.]{1,64} answers 400, in the URL or the body', async () => {
      assertOutcome(await server.request('PUT', '/Patient/bad_id', { body: { resourceType: 'Patient' } }), 400, /Invalid id "bad_id"/);
      assertOutcome(await server.request('PUT', `/Patient/${'a'.repeat(65)}`, { body: { resourceType: 'Patient' } }), 400, /Invalid id/);
      assertOutcome(await server.request('GET', '/Patient/a%20b'), 400, /Invalid id "a b"/);
      assertOutcome(await server.request('POST', '/Patient', { body: { resourceType: 'Patient', id: 'has space' } }), 400, /Invalid id "has space"/);
      assertOutcome(await server.request('POST', '/Patient', { body: { resourceType: 'Patient', id: 42 } }), 400, /id must be a string/);
      assertOutcome(await server.request('POST', '/Patient', { body: { resourceType: 'Patient', id: '' } }), 400, /Invalid id ""/);
      await assertNothingWritten();
    });

    test('a body id different from the URL id answers 400', async () => {
      assertOutcome(await server.request('PUT', '/Patient/one', { body: { resourceType: 'Patient', id: 'two' } }), 400, /The body's id "two" does not match the URL's id "one"/);
      await assertNothingWritten();
    });

    test('malformed JSON answers 400', async () => {
      assertOutcome(await server.request('POST', '/Patient', { raw: '{"resourceType": "Patient",' }), 400, /^Malformed JSON: /);
      assertOutcome(await server.request('PUT', '/Patient/x', { raw: '{resourceType: Patient}', contentType: 'application/fhir+json' }), 400, /^Malformed JSON: /);
      await assertNothingWritten();
    });

    test('a JSON content type with parameters or in upper case is still parsed', async () => {
      const charset = await server.request('PUT', '/Patient/ct1', { raw: '{"active":true}', contentType: 'application/fhir+json; charset=utf-8' });
      assert.equal(charset.status, 201, charset.text);
      const upper = await server.request('PUT', '/Patient/ct2', { raw: '{"active":true}', contentType: 'Application/JSON' });
      assert.equal(upper.status, 201, upper.text);
      await server.request('DELETE', '/Patient/ct1');
      await server.request('DELETE', '/Patient/ct2');
    });

    test('malformed YAML answers 400', async () => {
      assertOutcome(await server.request('POST', '/Patient', { raw: 'a: b: c', contentType: 'text/yaml' }), 400, /^Malformed YAML: /);
      assertOutcome(await server.request('POST', '/Patient', { raw: 'active: [true', contentType: 'text/yaml' }), 400, /^Malformed YAML: /);
      await assertNothingWritten();
    });

    test('a resourceType that is not the URL type answers 400', async () => {
      assertOutcome(await server.request('POST', '/Patient', { body: { resourceType: 'Observation' } }), 400, /resourceType "Observation" does not match the URL's type "Patient"/);
      assertOutcome(await server.request('PUT', '/Patient/p', { body: { resourceType: 'Observation' } }), 400, /resourceType "Observation" does not match/);
      await assertNothingWritten();
    });

    test('a body over the size limit answers 413', async () => {
      const big = JSON.stringify({ resourceType: 'Patient', text: 'x'.repeat(server.config.bodyLimit) });
      assertOutcome(await server.request('POST', '/Patient', { raw: big }), 413, new RegExp(`larger than the limit of ${server.config.bodyLimit} bytes`));
      assertOutcome(await server.request('POST', '/Patient', { raw: `text: ${'x'.repeat(server.config.bodyLimit)}`, contentType: 'text/yaml' }), 413, /larger than the limit/);
      await assertNothingWritten();
    });

    test('a body nested deeper than the limit answers 400, in JSON and YAML, however deep', async () => {
      const limit = server.config.maxBodyDepth;
      for (const depth of [limit + 1, 100_000]) {
        const json = `{"resourceType":"Patient","x":${nested(depth)}}`;
        assertOutcome(await server.request('POST', '/Patient', { raw: json }), 400, new RegExp(`nests deeper than ${limit} levels`));
        const yaml = `resourceType: Patient\nx: ${nested(depth)}\n`;
        assertOutcome(await server.request('POST', '/Patient', { raw: yaml, contentType: 'text/yaml' }), 400, new RegExp(`nests deeper than ${limit} levels`));
      }
      // One level less passes the parser: what answers is validation, which knows no element "x".
      const fine = await server.request('PUT', '/Patient/deep-ok', { raw: `{"x":${nested(limit - 1)}}` });
      assertOutcome(fine, 422, /unknown element "x"/);
    });

    test('a U+0000 character or an unpaired surrogate in a string or key answers 400, not a 500 from the store', async () => {
      assertOutcome(await server.request('POST', '/Patient', { raw: '{"resourceType":"Patient","text":"a\\u0000b"}' }), 400, /U\+0000/);
      assertOutcome(await server.request('POST', '/Patient', { raw: '{"resourceType":"Patient","a\\u0000":1}' }), 400, /U\+0000/);
      assertOutcome(await server.request('POST', '/Patient', { raw: 'text: "a\\0b"\n', contentType: 'text/yaml' }), 400, /U\+0000/);
      await server.request('PUT', '/Patient/nul-patch', { body: { resourceType: 'Patient' } });
      assertOutcome(await server.request('PATCH', '/Patient/nul-patch', { raw: '{"text":"\\u0000"}', contentType: 'application/merge-patch+json' }), 400, /U\+0000/);
      await server.request('DELETE', '/Patient/nul-patch');
      assertOutcome(await server.request('POST', '/Patient', { raw: '{"text":"\\ud800"}' }), 400, /unpaired surrogate/);
      assertOutcome(await server.request('POST', '/Patient', { raw: '{"text":"x\\udc00"}' }), 400, /unpaired surrogate/);
      assertOutcome(await server.request('POST', '/Patient', { raw: '{"\\ud800":1}' }), 400, /unpaired surrogate/);
      const pair = await server.request('PUT', '/Patient/emoji', { raw: '{"name":[{"text":"\\ud83d\\ude00"}]}' });
      assert.equal(pair.body.name[0].text, '\u{1F600}', 'a whole surrogate pair is an ordinary character');
      await server.request('DELETE', '/Patient/emoji');
      // An escaped backslash before "u0000" is plain text, and is stored.
      const plain = await server.request('PUT', '/Patient/nul-text', { raw: '{"name":[{"text":"\\\\u0000"}]}' });
      assert.equal(plain.status, 201, plain.text);
      assert.equal(plain.body.name[0].text, '\\u0000');
      await server.request('DELETE', '/Patient/nul-text');
      await assertNothingWritten();
    });

    test('a body that is not an object answers 400', async () => {
      for (const raw of ['[]', '"Patient"', '42', 'true']) {
        assertOutcome(await server.request('POST', '/Patient', { raw }), 400, /The body must be a JSON or YAML object, a Patient resource/);
      }
      assertOutcome(await server.request('POST', '/Patient', { raw: '- a\n- b\n', contentType: 'text/yaml' }), 400, /must be a JSON or YAML object/);
      assertOutcome(await server.request('PUT', '/Patient/p', { raw: 'null' }), 400, /no body|must be a JSON or YAML object/);
      assertOutcome(await server.request('POST', '/Patient', {}), 400, /The request has no body/);
      assertOutcome(await server.request('POST', '/Patient', { body: { resourceType: 'Patient', meta: 'x' } }), 400, /meta must be an object/);
      await assertNothingWritten();
    });

    test('an unsupported content type answers 415', async () => {
      assertOutcome(await server.request('POST', '/Patient', { raw: 'resourceType=Patient', contentType: 'text/plain' }), 415, /Unsupported Content-Type/);
      assertOutcome(await server.request('POST', '/Patient', { raw: '<Patient/>', contentType: 'application/fhir+xml' }), 415, /Unsupported Content-Type/);
      await assertNothingWritten();
    });

    test('a form body on the resource API answers 415, not a stored resource', async () => {
      const form = { raw: 'resourceType=Patient&active=true', contentType: 'application/x-www-form-urlencoded' };
      assertOutcome(await server.request('POST', '/Patient', form), 415, /not as a form/);
      assertOutcome(await server.request('PUT', '/Patient/form', form), 415, /not as a form/);
      await server.request('PUT', '/Patient/form-patch', { body: { resourceType: 'Patient' } });
      assertOutcome(await server.request('PATCH', '/Patient/form-patch', form), 415, /not as a form/);
      await server.request('DELETE', '/Patient/form-patch');
      await assertNothingWritten();
    });

    test('a malformed percent-encoding in the URL answers 400 as an OperationOutcome', async () => {
      assertOutcome(await server.request('GET', '/Patient/%E0%A4%A'), 400, /Malformed URL/);
    });

    test('a path segment longer than the router accepts answers 414 as an OperationOutcome', async () => {
      assertOutcome(await server.request('GET', `/Patient/${'a'.repeat(300)}`), 414, /path segment is too long/);
    });

    test('an unknown route answers 404 and a method the API lacks answers 4xx', async () => {
      assertOutcome(await server.request('GET', '/Patient/a/b/c/d'), 404, /No route for GET/);
      const response = await server.request('POST', '/Patient/a');
      assert.ok(response.status >= 400 && response.status < 500);
      assert.equal(response.body.resourceType, 'OperationOutcome');
    });
  });
}
