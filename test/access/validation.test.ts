// An AccessPolicy that would not run is refused when it is written, with an OperationOutcome naming the field.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const cases: [string, Record<string, unknown>, string, RegExp][] = [
  ['an unknown engine', { engine: 'opa' }, 'AccessPolicy.engine', /must be one of allow, json-schema, matcho, sql, complex/],
  ['no engine and no rule', { link: [] }, 'AccessPolicy.engine', /is required/],
  ['a malformed JSON Schema', { engine: 'json-schema', schema: { type: 'objekt' } }, 'AccessPolicy.schema', /invalid JSON Schema/],
  ['a bad regex in a schema pattern', { engine: 'json-schema', schema: { properties: { uri: { pattern: '([a-z' } } } }, 'AccessPolicy.schema', /invalid regex/],
  ['a bad regex in matcho', { engine: 'matcho', matcho: { uri: '#^(Patient' } }, 'AccessPolicy.matcho.uri', /invalid regex "\^\(Patient"/],
  ['a backreference (needs backtracking)', { engine: 'matcho', matcho: { uri: '#(a+)\\1' } }, 'AccessPolicy.matcho.uri', /invalid regex/],
  ['lookahead', { engine: 'matcho', matcho: { uri: '#^(?=a)' } }, 'AccessPolicy.matcho.uri', /no backreferences or lookaround/],
  ['an unknown matcho operator', { engine: 'matcho', matcho: { uri: { $like: 'x' } } }, 'AccessPolicy.matcho.uri.$like', /unknown operator/],
  ['matcho that is not a map', { engine: 'matcho', matcho: 'x' }, 'AccessPolicy.matcho', /must be a map/],
  ['a SQL syntax error', { engine: 'sql', sql: { query: 'selec true' } }, 'AccessPolicy.sql', /invalid SQL: syntax error/],
  ['SQL on a missing table', { engine: 'sql', sql: { query: 'select true from nowhere' } }, 'AccessPolicy.sql', /invalid SQL: .*nowhere/],
  ['a malformed placeholder', { engine: 'sql', sql: { query: 'select {{user id}} = 1' } }, 'AccessPolicy.sql', /invalid placeholder/],
  ['a link to an unsupported type', { engine: 'allow', link: [{ resourceType: 'Patient', id: 'p' }] }, 'AccessPolicy.link[0].resourceType', /must be one of Client, User, Operation/],
  ['a link without id', { engine: 'allow', link: [{ resourceType: 'Client' }] }, 'AccessPolicy.link[0].id', /is required/],
  ['an unknown field', { engine: 'allow', matchoo: {} }, 'AccessPolicy.matchoo', /unknown field/],
  ['a complex rule with a broken part', { engine: 'complex', or: [{ engine: 'allow' }, { engine: 'sql', sql: { query: 'select (' } }] }, 'AccessPolicy.or[1].sql', /invalid SQL/],
];

for (const engine of engines()) {
  describe(`AccessPolicy validation at write time (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
    });
    after(() => server.close());

    for (const [what, policy, field, message] of cases) {
      test(`refuses ${what} with 422 naming ${field}`, async () => {
        const response = await server.request('PUT', '/AccessPolicy/bad', { body: { resourceType: 'AccessPolicy', ...policy } });
        assert.equal(response.status, 422, response.text);
        assert.equal(response.body.resourceType, 'OperationOutcome');
        assert.equal(response.body.issue[0].code, 'invalid');
        assert.deepEqual(response.body.issue[0].expression, [field]);
        assert.match(response.body.issue[0].diagnostics, message);
        assert.equal((await server.request('GET', '/AccessPolicy/bad')).status, 404);
      });
    }

    test('accepts a policy whose table is only known per request ({{!path}})', async () => {
      const response = await server.request('PUT', '/AccessPolicy/dynamic', {
        body: { resourceType: 'AccessPolicy', engine: 'sql', sql: { query: 'select true from {{!params.resource/type}} limit 1' } },
      });
      assert.equal(response.status, 201, response.text);
    });

    test('refuses a PATCH that would break a stored policy', async () => {
      await server.request('PUT', '/AccessPolicy/good', { body: { resourceType: 'AccessPolicy', engine: 'matcho', matcho: { uri: '/Patient' } } });
      const response = await server.request('PATCH', '/AccessPolicy/good', {
        raw: JSON.stringify([{ op: 'replace', path: '/matcho/uri', value: '#(' }]),
        contentType: 'application/json-patch+json',
      });
      assert.equal(response.status, 422);
      assert.deepEqual(response.body.issue[0].expression, ['AccessPolicy.matcho.uri']);
    });
  });
}
