// The allow, json-schema, complex and sql engines, compiled as a policy is and evaluated on request objects.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compilePolicy, compileRule, verifyPolicy } from '../../src/access/compile.ts';
import { normalizeSchema, removeEmpty } from '../../src/access/engines/json-schema.ts';
import { PolicyError, type SqlRunner } from '../../src/access/policy.ts';
import { buildRequestObject, type RequestObject } from '../../src/access/request-object.ts';
import { sqlRunner } from '../../src/access/sql-runner.ts';
import type { Resource } from '../../src/store/resource-store.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const client = { resourceType: 'Client', id: 'c1' } as Resource;
const user = { resourceType: 'User', id: 'u1', data: { patient: 'p1' } } as Resource;
const read = buildRequestObject({ method: 'GET', url: '/Patient/p1?_elements=id', identity: { method: 'bearer', client, user, jwt: { sub: 'u1' } } });

const noDb: SqlRunner = { run: () => Promise.reject(new Error('no database in this test')) };

async function evaluate(rule: unknown, request: RequestObject = read, db: SqlRunner = noDb) {
  const policy = compilePolicy({ resourceType: 'AccessPolicy', id: 'p', ...(rule as object) } as Resource);
  return policy.rule.evaluate({ request, db, explain: true, compact: () => removeEmpty(request), userRights: async () => false });
}

describe('allow', () => {
  test('allows every request', async () => {
    assert.equal((await evaluate({ engine: 'allow' })).allowed, true);
  });
});

describe('json-schema', () => {
  const schema = (properties: object, extra: object = {}) => ({ engine: 'json-schema', schema: { type: 'object', properties, ...extra } });

  test('constant is read as const', async () => {
    assert.equal((await evaluate(schema({ 'request-method': { constant: 'get' } }))).allowed, true);
    const denied = await evaluate(schema({ 'request-method': { constant: 'post' } }));
    assert.equal(denied.allowed, false);
    assert.equal(denied.reason, 'request.request-method must be "post"');
  });

  test('constant inside nested schemas is rewritten, a property named constant is not', () => {
    assert.deepEqual(
      normalizeSchema({ properties: { constant: { type: 'string' }, a: { anyOf: [{ constant: 1 }] } }, $id: 'x' }),
      { properties: { constant: { type: 'string' }, a: { anyOf: [{ const: 1 }] } } },
    );
  });

  test('empty values are removed before matching, so required means present and not empty', async () => {
    const request = { ...read, body: { name: '', tags: [], meta: {}, note: null, kept: 'x' } };
    const outcome = await evaluate(
      schema({ body: { type: 'object', required: ['kept'], not: { anyOf: [{ required: ['name'] }, { required: ['tags'] }, { required: ['meta'] }, { required: ['note'] }] } } }),
      request,
    );
    assert.equal(outcome.allowed, true, outcome.reason);
    assert.equal((await evaluate(schema({}, { required: ['query-string', 'user'] }))).allowed, true);
    const noQuery = { ...read, 'query-string': '' };
    assert.equal((await evaluate(schema({}, { required: ['query-string'] }), noQuery)).allowed, false);
  });

  test('enum, pattern and nested user fields', async () => {
    assert.equal((await evaluate(schema({ uri: { pattern: '^/Patient/' }, user: { properties: { data: { properties: { patient: { const: 'p1' } } } } } }))).allowed, true);
    const denied = await evaluate(schema({ uri: { enum: ['/Patient', 'Encounter'] } }));
    assert.equal(denied.reason, 'request.uri must be one of ["/Patient","Encounter"]');
  });

  test('a malformed schema is a PolicyError naming the schema', () => {
    assert.throws(() => compileRule({ engine: 'json-schema', schema: { type: 'objekt' } }, 'AccessPolicy'), (error: PolicyError) => {
      assert.equal(error.path, 'AccessPolicy.schema');
      assert.match(error.message, /invalid JSON Schema/);
      return true;
    });
    assert.throws(() => compileRule({ engine: 'json-schema', schema: { properties: { uri: { pattern: '(a' } } } }, 'AccessPolicy'), /invalid regex/);
    assert.throws(() => compileRule({ engine: 'json-schema' }, 'AccessPolicy'), /AccessPolicy.schema: must be a JSON Schema object/);
  });
});

describe('complex', () => {
  const get = { engine: 'matcho', matcho: { 'request-method': 'get' } };
  const post = { engine: 'matcho', matcho: { 'request-method': 'post' } };
  const patient = { engine: 'json-schema', schema: { properties: { params: { properties: { 'resource/type': { const: 'Patient' } } } } } };

  test('and needs every rule, or needs one', async () => {
    assert.equal((await evaluate({ engine: 'complex', and: [get, patient] })).allowed, true);
    assert.equal((await evaluate({ engine: 'complex', and: [get, post] })).allowed, false);
    assert.equal((await evaluate({ engine: 'complex', or: [post, get] })).allowed, true);
    assert.equal((await evaluate({ engine: 'complex', or: [post, post] })).allowed, false);
  });

  test('and with or: both must hold', async () => {
    assert.equal((await evaluate({ engine: 'complex', and: [patient], or: [post, get] })).allowed, true);
    assert.equal((await evaluate({ engine: 'complex', and: [patient], or: [post] })).allowed, false);
  });

  test('rules nest', async () => {
    const nested = { engine: 'complex', or: [post, { engine: 'complex', and: [get, { engine: 'complex', or: [patient] }] }] };
    assert.equal((await evaluate(nested)).allowed, true);
  });

  test('an empty or malformed complex rule is a PolicyError with its path', () => {
    assert.throws(() => compileRule({ engine: 'complex' }, 'AccessPolicy'), /needs `and` or `or`/);
    assert.throws(() => compileRule({ engine: 'complex', and: [get, { engine: 'matcho', matcho: { a: '#(' } }] }, 'AccessPolicy'), /AccessPolicy\.and\[1\]\.matcho\.a: invalid regex/);
    let deep: object = get;
    for (let i = 0; i < 20; i++) deep = { engine: 'complex', and: [deep] };
    assert.throws(() => compileRule(deep, 'AccessPolicy'), /nest deeper/);
  });
});

for (const engine of engines()) {
  describe(`sql (${engine})`, () => {
    let server: TestServer;
    let db: SqlRunner;
    before(async () => {
      server = await startTestServer(engine);
      db = sqlRunner(server.app.ctx.db);
      await server.request('PUT', '/Patient/p1', { body: { resourceType: 'Patient', generalPractitioner: [{ reference: 'Practitioner/u1' }] } });
    });
    after(() => server.close());

    const sql = (query: string) => ({ engine: 'sql', sql: { query } });

    test('a query returning true allows, false or no row denies', async () => {
      assert.equal((await evaluate(sql('select true'), read, db)).allowed, true);
      assert.equal((await evaluate(sql('select false'), read, db)).allowed, false);
      assert.equal((await evaluate(sql("select true from resource where type = 'Nothing'"), read, db)).allowed, false);
    });

    test('{{path}} binds the request value as a parameter', async () => {
      const policy = sql(`select true from resource where type = {{params.resource/type}} and id = {{params.resource/id}}
        and resource @> jsonb_build_object('generalPractitioner', jsonb_build_array(jsonb_build_object('reference', 'Practitioner/' || {{user.id}})))`);
      const outcome = await evaluate(policy, read, db);
      assert.equal(outcome.allowed, true, outcome.reason);
      assert.deepEqual(outcome.sql?.params, ['Patient', 'p1', 'u1']);
      assert.match(outcome.sql!.query, /type = \$1 and id = \$2/);
      const other = buildRequestObject({ method: 'GET', url: '/Patient/p1', identity: { method: 'bearer', client, user: { ...user, id: 'u2' } } });
      assert.equal((await evaluate(policy, other, db)).allowed, false);
    });

    test('{{!path}} inserts a quoted identifier', async () => {
      const outcome = await evaluate(sql('select count(*) >= 0 from {{!params.table}}'), { ...read, params: { table: 'resource' } }, db);
      assert.equal(outcome.allowed, true, outcome.reason);
      assert.match(outcome.sql!.query, /from "resource"/);
    });

    test('a query that returns more than one row or column denies with the reason', async () => {
      const rows = await evaluate(sql('select true from generate_series(1, 2)'), read, db);
      assert.equal(rows.allowed, false);
      assert.match(rows.reason!, /more than one row/);
      const columns = await evaluate(sql('select true, true'), read, db);
      assert.equal(columns.allowed, false);
      assert.match(columns.reason!, /more than one column/);
    });

    test('verification at write time accepts a valid query and names a broken one', async () => {
      const ok = compilePolicy({ resourceType: 'AccessPolicy', id: 'x', ...sql('select true from resource where id = {{user.id}}') } as Resource);
      await verifyPolicy(ok, db);
      const broken = compilePolicy({ resourceType: 'AccessPolicy', id: 'x', ...sql('selec true') } as Resource);
      await assert.rejects(verifyPolicy(broken, db), /AccessPolicy.sql: invalid SQL: syntax error/);
      const missing = compilePolicy({ resourceType: 'AccessPolicy', id: 'x', ...sql('select true from no_such_table') } as Resource);
      await assert.rejects(verifyPolicy(missing, db), /no_such_table/);
    });
  });
}
