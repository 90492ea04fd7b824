// SQL policies read the resources and nothing else: not the private signing keys, the token hashes, the
// throttle counters, nor the secrets a TokenIntrospector may hold. A query that tries is a denial, never a
// 500, and never shows what it tried to read.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import postgres from 'postgres';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { createClient, linkTo, putPolicy, storeUnchecked } from './fixtures.ts';

const READ_KEYS = "select count(*) > 0 from signing_key where private_jwk->>'d' is not null and {{uri}} = '/Media'";
/** Takes the server's own role back through dynamic SQL, then reads the keys: set_config is out of reach. */
const ESCAPE = `select query_to_xml('select set_' || 'config(''role'', session_user::text, true)', true, false, '') is not null
  and query_to_xml('select private_jwk from signing_key', true, false, '')::text like '%private%'`;

for (const engine of engines()) {
  describe(`SQL policies are confined to the resources (${engine})`, () => {
    let server: TestServer;
    let c: { id: string; secret: string };
    let privateD: string;
    before(async () => {
      server = await startTestServer(engine);
      c = await createClient(server, 'c');
      await server.request('PUT', '/Patient/p1', { body: { resourceType: 'Patient' } });
      // Signing happens on the first token; make one so the key exists.
      await server.request('PUT', '/Client/cc', { body: { resourceType: 'Client', secret: 'cc-secret', grant_types: ['client_credentials'] } });
      const token = await fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('cc:cc-secret').toString('base64')}` },
        body: 'grant_type=client_credentials',
      });
      assert.equal(token.status, 200);
      const [key] = await server.app.ctx.db.query<{ d: string }>(`select private_jwk->>'d' as d from signing_key limit 1`);
      privateD = key.d;
      assert.ok(privateD);
    });
    after(() => server.close());

    const noLeak = (text: string) => assert.equal(text.includes(privateD), false, 'the private key appears in the answer');

    test('a policy that reads signing_key is refused when written, with a 422 that shows nothing of the keys', async () => {
      const response = await server.request('PUT', '/AccessPolicy/keys', {
        body: { resourceType: 'AccessPolicy', engine: 'sql', link: linkTo('Client', 'c'), sql: { query: READ_KEYS } },
      });
      assert.equal(response.status, 422, response.text);
      assert.match(response.text, /permission denied for table signing_key/);
      noLeak(response.text);
    });

    test('POST /auth/test-policy refuses SQL that reads signing_key', async () => {
      for (const query of [READ_KEYS, "select (select private_jwk::text from signing_key limit 1)::int = 1"]) {
        const response = await server.request('POST', '/auth/test-policy', {
          body: { request: { method: 'GET', uri: '/Media', client: 'c' }, policy: { engine: 'sql', sql: { query } } },
        });
        assert.equal(response.status, 400, response.text);
        assert.equal(response.body.error, 'invalid_request');
        assert.match(response.body.error_description, /permission denied for table signing_key/);
        noLeak(response.text);
      }
    });

    test('POST /auth/test-policy with SQL that reads the keys through dynamic SQL evaluates it as a denial', async () => {
      // EXPLAIN does not run query_to_xml's query, so this plans; running it is what is denied.
      const response = await server.request('POST', '/auth/test-policy', {
        body: { request: { method: 'GET', uri: '/Media', client: 'c' }, policy: { id: 'escape', engine: 'sql', sql: { query: ESCAPE } } },
      });
      assert.equal(response.status, 200, response.text);
      assert.equal(response.body.decision, 'deny');
      const result = response.body.candidates.find((candidate: { id: string }) => candidate.id === 'escape');
      assert.match(result.reason, /permission denied \(SQLSTATE 42501\)/);
      noLeak(response.text);
    });

    test('a stored policy that reads signing_key, oauth_token or auth_failure denies, and its trace shows no key', async () => {
      const tables = {
        'sql-keys': READ_KEYS,
        'sql-tokens': "select count(*) >= 0 and {{uri}} = '/Media' from oauth_token",
        'sql-failures': "select count(*) >= 0 and {{uri}} = '/Media' from auth_failure",
      };
      for (const [id, query] of Object.entries(tables)) await storeUnchecked(server, { id, engine: 'sql', link: linkTo('Client', 'c'), sql: { query } });
      await storeUnchecked(server, { id: 'sql-escape', engine: 'sql', link: linkTo('Client', 'c'), sql: { query: `${ESCAPE} and {{uri}} = '/Media'` } });
      await storeUnchecked(server, { id: 'sql-leak', engine: 'sql', link: linkTo('Client', 'c'), sql: { query: "select (select private_jwk::text from signing_key limit 1)::int = 1 and {{uri}} = '/Media'" } });
      const response = await server.request('GET', '/Media', { auth: c });
      assert.equal(response.status, 403, response.text);
      const trace = await server.request('POST', '/auth/test-policy', { body: { request: { method: 'GET', uri: '/Media', client: 'c' } } });
      assert.equal(trace.status, 200);
      assert.equal(trace.body.decision, 'deny');
      noLeak(trace.text);
      for (const id of [...Object.keys(tables), 'sql-escape', 'sql-leak']) {
        const result = trace.body.candidates.find((candidate: { id: string }) => candidate.id === id);
        assert.match(result.reason, /permission denied/, id);
      }
    });

    test('a table named by the request ({{!path}}) is a denial when it is not a resource table', async () => {
      await putPolicy(server, { id: 'sql-ident', engine: 'sql', link: linkTo('Client', 'c'), sql: { query: "select count(*) >= 0 from {{!headers.x-table}} where {{uri}} = '/Device'" } });
      assert.equal((await server.request('GET', '/Device', { auth: c, headers: { 'x-table': 'resource' } })).status, 200);
      const response = await server.request('GET', '/Device', { auth: c, headers: { 'x-table': 'signing_key' } });
      assert.equal(response.status, 403);
      noLeak(response.text);
    });

    test('a SQL policy over the resources still works', async () => {
      await putPolicy(server, {
        id: 'sql-patients',
        engine: 'sql',
        link: linkTo('Client', 'c'),
        sql: { query: "select exists (select 1 from resource where type = 'Patient' and id = {{params.resource/id}} and not deleted) and {{request-method}} = 'get'" },
      });
      assert.equal((await server.request('GET', '/Patient/p1', { auth: c })).status, 200);
      assert.equal((await server.request('GET', '/Patient/p2', { auth: c })).status, 403);
    });

    test('TokenIntrospector rows, which may hold secrets, are not visible to policy SQL', async () => {
      const introspector = await server.request('PUT', '/TokenIntrospector/idp', {
        body: { resourceType: 'TokenIntrospector', type: 'jwt', jwt: { iss: 'https://idp.example', aud: 'warden', secret: 's'.repeat(40) } },
      });
      assert.ok(introspector.status < 300, introspector.text);
      await putPolicy(server, {
        id: 'sql-introspectors',
        engine: 'sql',
        link: linkTo('Client', 'c'),
        sql: { query: "select count(*) = 0 from resource where type = 'TokenIntrospector' and {{uri}} = '/Flag'" },
      });
      assert.equal((await server.request('GET', '/Flag', { auth: c })).status, 200, 'the policy sees no introspector');
    });

    test('IdentityProvider rows and User two-factor keys are not visible to policy SQL', async () => {
      const provider = await server.request('PUT', '/IdentityProvider/idp', { body: { issuer: 'https://idp.example', client: { id: 'w', secret: 'provider-secret' } } });
      assert.ok(provider.status < 300, provider.text);
      const user = await server.request('PUT', '/User/tf', { body: { twoFactor: { enabled: true, secretKey: 'JBSWY3DPEHPK3PXPJBSWY3DP' } } });
      assert.ok(user.status < 300, user.text);
      await putPolicy(server, {
        id: 'sql-sign-in-secrets',
        engine: 'sql',
        link: linkTo('Client', 'c'),
        sql: {
          query: "select count(*) = 0 from resource where (type = 'IdentityProvider' or resource ? 'twoFactor') and {{uri}} = '/Basic'",
        },
      });
      assert.equal((await server.request('GET', '/Basic', { auth: c })).status, 200, 'the policy sees neither');
    });
  });
}

describe('SQL policies where the database user cannot confine them (PostgreSQL, not a superuser)', { skip: !process.env.DATABASE_URL }, () => {
  const name = `warden_test_plain_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  let server: TestServer;
  const admin = () => postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
  before(async () => {
    const sql = admin();
    await sql.unsafe(`create role ${name} login nosuperuser nocreaterole`);
    await sql.unsafe(`create database ${name} owner ${name}`);
    await sql.end();
    const url = new URL(process.env.DATABASE_URL!);
    url.username = name;
    url.pathname = `/${name}`;
    // The 'pglite' engine makes no database of its own; databaseUrl points the server at the one made here.
    server = await startTestServer('pglite', { databaseUrl: url.toString() });
    await createClient(server, 'c');
  });
  after(async () => {
    await server?.close();
    const sql = admin();
    await sql.unsafe(`drop database if exists ${name} with (force)`);
    await sql.unsafe(`drop role if exists ${name}`);
    await sql.end();
  });

  test('the server starts, refuses to store a SQL policy, says what to run, and other engines still work', async () => {
    const refused = await server.request('PUT', '/AccessPolicy/sql', {
      body: { resourceType: 'AccessPolicy', engine: 'sql', link: linkTo('Client', 'c'), sql: { query: 'select true' } },
    });
    assert.equal(refused.status, 422, refused.text);
    assert.match(refused.text, /SQL policies are off on this server/);
    assert.match(refused.text, /create role warden_policy nologin/);
    await putPolicy(server, { id: 'reads', engine: 'matcho', link: linkTo('Client', 'c'), matcho: { 'request-method': 'get', uri: '/Patient' } });
    assert.equal((await server.request('GET', '/Patient', { auth: { id: 'c', secret: 'c-secret' } })).status, 200);
  });

  test('a SQL policy stored by hand denies: it fails closed rather than running unconfined', async () => {
    await storeUnchecked(server, { id: 'sql-open', engine: 'sql', link: linkTo('Client', 'c'), sql: { query: "select {{uri}} = '/Media'" } });
    assert.equal((await server.request('GET', '/Media', { auth: { id: 'c', secret: 'c-secret' } })).status, 403);
  });
});
