// Policies written to hurt: regexes that backtrack for ever in a backtracking engine, SQL that writes, runs
// several statements, escapes its parameters or never ends.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { createClient, linkTo, putPolicy, storeUnchecked } from './fixtures.ts';

const count = async (server: TestServer) =>
  Number((await server.app.ctx.db.query<{ n: string }>(`select count(*) as n from resource where type <> 'AuditEvent'`))[0].n);

for (const engine of engines()) {
  describe(`hostile policies (${engine})`, () => {
    let server: TestServer;
    let c: { id: string; secret: string };
    before(async () => {
      server = await startTestServer(engine);
      c = await createClient(server, 'c');
      await server.request('PUT', '/Patient/keep', { body: { resourceType: 'Patient' } });
    });
    after(() => server.close());

    const evil = 'a'.repeat(5000) + '!';

    test('catastrophic matcho regexes answer, and answer right', async () => {
      await putPolicy(server, { id: 're-matcho', engine: 'matcho', link: linkTo('Client', 'c'), matcho: { headers: { 'x-input': '#^(a+)+$' } } });
      await putPolicy(server, { id: 're-matcho-2', engine: 'matcho', link: linkTo('Client', 'c'), matcho: { headers: { 'x-input': '#^(a|aa)+$' }, uri: '/Basic' } });
      assert.equal((await server.request('GET', '/Patient', { auth: c, headers: { 'x-input': evil } })).status, 403);
      assert.equal((await server.request('GET', '/Basic', { auth: c, headers: { 'x-input': evil } })).status, 403);
      assert.equal((await server.request('GET', '/Patient', { auth: c, headers: { 'x-input': 'a'.repeat(5000) } })).status, 200);
    });

    test('catastrophic JSON Schema patterns answer, and answer right', async () => {
      await putPolicy(server, {
        id: 're-schema',
        engine: 'json-schema',
        link: linkTo('Client', 'c'),
        schema: { required: ['headers'], properties: { uri: { const: '/Flag' }, headers: { required: ['x-input'], properties: { 'x-input': { pattern: '^(\\w+\\s?)*$' } } } } },
      });
      const words = 'word '.repeat(2000);
      assert.equal((await server.request('GET', '/Flag', { auth: c, headers: { 'x-input': `${words}!` } })).status, 403);
      assert.equal((await server.request('GET', '/Flag', { auth: c, headers: { 'x-input': words.trim() } })).status, 200);
    });

    for (const [what, query, message] of [
      ['a write', "delete from resource where type = 'Patient'", /invalid SQL: syntax error/],
      ['an insert', "insert into resource values ('x')", /invalid SQL: syntax error/],
      ['a data-modifying CTE', 'with gone as (delete from resource returning 1) select true', /invalid SQL: .*WITH clause containing a data-modifying statement must be at the top level/],
      ['several statements', 'select true; drop table resource', /invalid SQL: syntax error/],
      ['a comment that hides the wrapper', 'select true --', null],
      ['sleeping', 'select pg_sleep(10) is not null', /pg_sleep\(\) is not allowed/],
      ['sleeping, quoted', 'select "pg_sleep"(10) is not null', /pg_sleep\(\) is not allowed/],
      ['a session setting', "select set_config('statement_timeout', '0', false) = '0'", /set_config\(\) is not allowed/],
      ['a session lock', 'select pg_advisory_lock(7243001) is not null', /pg_advisory_lock\(\) is not allowed/],
      ['an endless series', 'select count(*) > 0 from generate_series(1, 1000000000000)', /too costly/],
    ] as const) {
      test(`SQL with ${what} is ${message ? 'refused at write time' : 'harmless'}`, async () => {
        const response = await server.request('PUT', '/AccessPolicy/hostile-sql', { body: { resourceType: 'AccessPolicy', engine: 'sql', link: linkTo('Client', 'nobody'), sql: { query } } });
        if (message) {
          assert.equal(response.status, 422, response.text);
          assert.match(response.body.issue[0].diagnostics, message);
        } else {
          assert.equal(response.status, 201, response.text);
        }
        assert.equal((await server.request('GET', '/Patient/keep')).status, 200);
      });
    }

    test('a bound parameter cannot escape into the query', async () => {
      await putPolicy(server, { id: 'sql-param', engine: 'sql', link: linkTo('Client', 'c'), sql: { query: "select {{headers.x-name}} = 'ok' and {{uri}} = '/Group'" } });
      const injected = "ok' or '1'='1";
      assert.equal((await server.request('GET', '/Group', { auth: c, headers: { 'x-name': injected } })).status, 403);
      assert.equal((await server.request('GET', '/Group', { auth: c, headers: { 'x-name': "'; delete from resource; --" } })).status, 403);
      assert.equal((await server.request('GET', '/Group', { auth: c, headers: { 'x-name': 'ok' } })).status, 200);
      assert.equal((await server.request('GET', '/Patient/keep')).status, 200);
    });

    test('an identifier cannot escape its quotes', async () => {
      await putPolicy(server, { id: 'sql-ident', engine: 'sql', link: linkTo('Client', 'c'), sql: { query: "select count(*) >= 0 from {{!headers.x-table}} where {{uri}} = '/Device'" } });
      const before = await count(server);
      const escape = 'resource" where false; delete from resource; --';
      const trace = await server.request('GET', '/Device', { auth: c, headers: { 'x-table': escape, 'x-debug': 'policy' } });
      assert.equal(trace.status, 403, 'c may not debug');
      assert.equal((await server.request('GET', '/Device', { auth: c, headers: { 'x-table': escape } })).status, 403);
      assert.equal((await server.request('GET', '/Device', { auth: c, headers: { 'x-table': 'resource' } })).status, 200);
      assert.equal(await count(server), before);
    });

    test('a stored policy whose function writes is denied, and writes nothing', async () => {
      await server.app.ctx.db.exec(`create function warden_test_evil() returns boolean language plpgsql as $$
        begin delete from resource where type = 'Patient'; return true; end $$`);
      await storeUnchecked(server, { id: 'sql-evil-function', engine: 'sql', link: linkTo('Client', 'c'), sql: { query: "select warden_test_evil() and {{uri}} = '/Media'" } });
      const response = await server.request('GET', '/Media', { auth: c });
      assert.equal(response.status, 403);
      assert.equal((await server.request('GET', '/Patient/keep')).status, 200);
      const trace = await server.request('GET', '/Media', { headers: { 'x-debug': 'policy', authorization: `Basic ${Buffer.from('c:c-secret').toString('base64')}` } });
      assert.equal(trace.status, 403);
      const rootTrace = await server.request('POST', '/auth/test-policy', { body: { request: { method: 'GET', uri: '/Media', client: 'c' } } });
      const evilResult = rootTrace.body.candidates.find((candidate: { id: string }) => candidate.id === 'sql-evil-function');
      // The function runs as warden_policy, which may not even read the table it writes (and the transaction is read-only).
      assert.match(evilResult.reason, /permission denied|read-only transaction/);
    });

    test('a stored policy that changes a session setting leaves the session unchanged', async () => {
      await storeUnchecked(server, { id: 'sql-setting', engine: 'sql', link: linkTo('Client', 'c'), sql: { query: "select set_config('application_name', 'hijacked', false) = 'x'" } });
      await server.request('GET', '/Media', { auth: c });
      const names = await server.app.ctx.db.query<{ name: string }>(`select current_setting('application_name') as name`);
      assert.notEqual(names[0].name, 'hijacked');
    });

    test('a stored policy that does not compile is reported and never allows', async () => {
      await storeUnchecked(server, { id: 'sql-sleeper', engine: 'sql', link: linkTo('Client', 'c'), sql: { query: "select pg_sleep(60) is null and {{uri}} = '/Media'" } });
      assert.equal((await server.request('GET', '/Media', { auth: c })).status, 403);
      const trace = await server.request('POST', '/auth/test-policy', { body: { request: { method: 'GET', uri: '/Media', client: 'c' } } });
      assert.ok(!trace.body.candidates.some((candidate: { id: string }) => candidate.id === 'sql-sleeper'));
      assert.match(trace.body.invalid.find((entry: { id: string }) => entry.id === 'sql-sleeper').message, /pg_sleep\(\) is not allowed/);
    });

    // PGlite runs in this process and cannot cancel a statement; there the write-time cost bound is the limit.
    if (engine === 'postgres') {
      test('a stored policy that never ends is cut off by the statement timeout and denies', async () => {
        const endless = "select count(*) > 0 and {{uri}} = '/Media' from generate_series(1, 1000000000000)";
        await storeUnchecked(server, { id: 'sql-sleep', engine: 'sql', link: linkTo('Client', 'c'), sql: { query: endless } });
        const trace = await server.request('POST', '/auth/test-policy', { body: { request: { method: 'GET', uri: '/Media', client: 'c' } } });
        const sleeper = trace.body.candidates.find((candidate: { id: string }) => candidate.id === 'sql-sleep');
        assert.equal(sleeper.allowed, false);
        assert.match(sleeper.reason, /ran longer than allowed \(SQLSTATE 57014\)/);
      });
    }
  });
}
