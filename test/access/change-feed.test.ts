// One change feed for every IAM projection: a write of an AccessPolicy, a Role or a TokenIntrospector is answered
// only once every server process sharing the database has applied it (COMPASS: "a policy change is seen by all
// nodes at once"; OWASP ASVS 5.0 V8.1: authorization decisions use the current policy). Two real processes, so
// nothing is shared but PostgreSQL: each check is the very next request after the write is answered.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import postgres from 'postgres';
import { spawnServer, type ServerProcess } from '../helpers/process.ts';
import { createTestDatabase, engines, request } from '../helpers/server.ts';
import { bearer, hmac, now } from '../external/tokens.ts';

const ROUNDS = 5;
/** Policies no request here meets: they make a reload take long enough for a request to overtake it. */
const FILLER_POLICIES = 3000;
const ISSUER = 'https://feed.example';
const SECRET = 'change-feed-hmac-secret-of-at-least-32-bytes';

if (engines().includes('postgres')) {
  describe('two server processes on one PostgreSQL: a write returns once both apply it', () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let first: ServerProcess;
    let second: ServerProcess;

    before(async () => {
      database = await createTestDatabase();
      first = await spawnServer({ DATABASE_URL: database.url, LOG_LEVEL: 'warn' });
      second = await spawnServer({ DATABASE_URL: database.url, LOG_LEVEL: 'warn' });
      const sql = postgres(database.url, { max: 1, onnotice: () => {} });
      await sql`insert into resource (type, id, version_id, last_updated, deleted, resource)
        select 'AccessPolicy', 'filler-' || n, 1, now(), false,
          jsonb_build_object('resourceType', 'AccessPolicy', 'id', 'filler-' || n, 'engine', 'matcho',
            'link', jsonb_build_array(jsonb_build_object('reference', 'Client/nobody-' || n)), 'matcho', jsonb_build_object('uri', '/Filler/' || n))
        from generate_series(1, ${FILLER_POLICIES}) as n`;
      await sql.end();
    });
    after(async () => {
      for (const server of [first, second]) {
        server?.child.kill('SIGTERM');
        await server?.exited;
      }
      await database?.drop();
    });

    test('a policy granted, then revoked, through one process is in force in the other when the write returns', async () => {
      const reader = { id: 'feed-reader', secret: 'feed-reader-secret' };
      const client = await request(first.url, 'PUT', `/Client/${reader.id}`, { body: { resourceType: 'Client', secret: reader.secret, grant_types: ['basic'] } });
      assert.equal(client.status, 201, client.text);
      const policy = { resourceType: 'AccessPolicy', engine: 'matcho', link: [{ reference: `Client/${reader.id}` }], matcho: { 'request-method': 'get' } };
      for (let round = 0; round < ROUNDS; round++) {
        const granted = await request(first.url, 'PUT', '/AccessPolicy/feed-reads', { body: policy });
        assert.ok(granted.status < 300, granted.text);
        assert.equal((await request(second.url, 'GET', '/Patient', { auth: reader })).status, 200, `round ${round}: granted`);
        assert.equal((await request(first.url, 'DELETE', '/AccessPolicy/feed-reads')).status, 200);
        assert.equal((await request(second.url, 'GET', '/Patient', { auth: reader })).status, 403, `round ${round}: revoked`);
      }
    });

    test('a process stalled through a revocation does not decide on the revoked policy when it wakes', async () => {
      const reader = { id: 'stalled-reader', secret: 'stalled-reader-secret' };
      const client = await request(first.url, 'PUT', `/Client/${reader.id}`, { body: { resourceType: 'Client', secret: reader.secret, grant_types: ['basic'] } });
      assert.equal(client.status, 201, client.text);
      const policy = { resourceType: 'AccessPolicy', engine: 'matcho', link: [{ reference: `Client/${reader.id}` }], matcho: { 'request-method': 'get' } };
      assert.equal((await request(first.url, 'PUT', '/AccessPolicy/stalled-reads', { body: policy })).status, 201);
      assert.equal((await request(second.url, 'GET', '/Patient', { auth: reader })).status, 200);
      // The second process cannot answer the barrier while stopped: the write waits out its lease instead.
      second.child.kill('SIGSTOP');
      try {
        assert.equal((await request(first.url, 'DELETE', '/AccessPolicy/stalled-reads')).status, 200);
      } finally {
        second.child.kill('SIGCONT');
      }
      assert.equal((await request(second.url, 'GET', '/Patient', { auth: reader })).status, 403);
    });

    test('a role given, then taken, through one process is in force in the other when the write returns', async () => {
      const user = { id: 'feed-user', secret: 'feed-user-password-1' };
      assert.equal((await request(first.url, 'PUT', `/User/${user.id}`, { body: { resourceType: 'User', password: user.secret } })).status, 201);
      const policy = await request(first.url, 'PUT', '/AccessPolicy/feed-auditors', { body: { resourceType: 'AccessPolicy', engine: 'allow', roleName: 'feed-auditor' } });
      assert.equal(policy.status, 201, policy.text);
      const explain = async () =>
        (await request(second.url, 'POST', '/auth/test-policy', { body: { request: { method: 'GET', uri: '/Patient', user: user.id } } })).body.decision;
      for (let round = 0; round < ROUNDS; round++) {
        const given = await request(first.url, 'PUT', '/Role/feed-role', { body: { resourceType: 'Role', name: 'feed-auditor', user: { id: user.id } } });
        assert.ok(given.status < 300, given.text);
        assert.equal(await explain(), 'allow', `round ${round}: given`);
        assert.equal((await request(first.url, 'DELETE', '/Role/feed-role')).status, 200);
        assert.equal(await explain(), 'deny', `round ${round}: taken`);
      }
    });

    test('a TokenIntrospector created, then deleted, through one process is honoured, then refused, by the other', async () => {
      const policy = await request(first.url, 'PUT', '/AccessPolicy/feed-jwt-reads', {
        body: { resourceType: 'AccessPolicy', engine: 'matcho', matcho: { 'request-method': 'get', jwt: { iss: ISSUER } } },
      });
      assert.equal(policy.status, 201, policy.text);
      const token = await hmac(SECRET, { iss: ISSUER, aud: 'warden', exp: now() + 600 });
      const read = async () => (await request(second.url, 'GET', '/Patient', bearer(token))).status;
      assert.equal(await read(), 401, 'the second process has loaded its (empty) introspectors');
      const introspector = { resourceType: 'TokenIntrospector', type: 'jwt', jwt: { iss: ISSUER, aud: 'warden', secret: SECRET } };
      for (let round = 0; round < ROUNDS; round++) {
        assert.ok((await request(first.url, 'PUT', '/TokenIntrospector/feed', { body: introspector })).status < 300);
        assert.equal(await read(), 200, `round ${round}: trusted`);
        assert.equal((await request(first.url, 'DELETE', '/TokenIntrospector/feed')).status, 200);
        assert.equal(await read(), 401, `round ${round}: forgotten`);
      }
    });
  });
}
