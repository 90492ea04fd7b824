import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { assertOutcome } from '../helpers/outcome.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

// The seed's request, verbatim (Aidbox docs, "Basic Auth").
const SEED_CLIENT = `id: api-consumer
secret: verysecretstring
grant_types:
  - basic
`;

for (const engine of engines()) {
  describe(`YAML in and out (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
    });
    after(() => server.close());

    test("the seed's YAML POST /Client creates the client and answers YAML when asked", async () => {
      const created = await server.request('POST', '/Client', { raw: SEED_CLIENT, contentType: 'text/yaml', headers: { accept: 'text/yaml' } });
      assert.equal(created.status, 201, created.text);
      assert.match(created.headers.get('content-type') ?? '', /^text\/yaml/);
      const client = parse(created.text);
      assert.equal(client.resourceType, 'Client');
      assert.equal(client.id, 'api-consumer');
      assert.deepEqual(client.grant_types, ['basic']);
      assert.match(client.secret, /^\$s0\$f0801\$/);
    });

    test('a JSON resource is read back as YAML with Accept: text/yaml and with _format=yaml', async () => {
      await server.request('PUT', '/Patient/y', { body: { resourceType: 'Patient', name: [{ family: 'Doe', given: ['Jo'] }] } });
      for (const options of [{ path: '/Patient/y', accept: 'text/yaml' }, { path: '/Patient/y?_format=yaml', accept: '*/*' }]) {
        const read = await server.request('GET', options.path, { headers: { accept: options.accept } });
        assert.match(read.headers.get('content-type') ?? '', /^text\/yaml/);
        assert.deepEqual(parse(read.text).name, [{ family: 'Doe', given: ['Jo'] }]);
      }
    });

    test('a YAML PUT is read back as the same JSON', async () => {
      const yaml = 'resourceType: Patient\nactive: true\nbirthDate: "1970-01-01"\nname:\n  - family: Roe\n';
      assert.equal((await server.request('PUT', '/Patient/y2', { raw: yaml, contentType: 'application/yaml' })).status, 201);
      const read = await server.request('GET', '/Patient/y2');
      assert.equal(read.body.active, true);
      assert.equal(read.body.birthDate, '1970-01-01');
      assert.deepEqual(read.body.name, [{ family: 'Roe' }]);
    });

    test('errors answer YAML to a caller who asked for YAML', async () => {
      const response = await server.request('GET', '/Patient/nobody', { headers: { accept: 'text/yaml' } });
      assert.equal(response.status, 404);
      assert.equal(parse(response.text).resourceType, 'OperationOutcome');
    });

    test('malformed YAML answers 400 naming the problem, and nothing is written', async () => {
      const response = await server.request('PUT', '/Patient/bad-yaml', { raw: 'id: [unclosed\nactive: true', contentType: 'text/yaml' });
      assertOutcome(response, 400, /^Malformed YAML: /);
      assert.equal((await server.request('GET', '/Patient/bad-yaml')).status, 404);
    });

    test('YAML with a duplicate key is refused', async () => {
      const response = await server.request('PUT', '/Patient/dup-yaml', { raw: 'active: true\nactive: false\n', contentType: 'text/yaml' });
      assertOutcome(response, 400, /Malformed YAML: .*unique/i);
    });
  });
}
