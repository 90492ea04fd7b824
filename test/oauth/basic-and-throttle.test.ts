// Basic auth on the API (RFC 7617, RFC 6749 §2.3.1), its secret cache rules, and brute-force throttling.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, createUser, postForm, postFormFrom } from '../helpers/oauth.ts';
import { basic, engines, startTestServer, type TestServer } from '../helpers/server.ts';

const headersOf = (response: { headers: Headers }) => {
  const kept: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!['date', 'x-request-id', 'content-length'].includes(name)) kept[name] = value;
  });
  return kept;
};

for (const engine of engines()) {
  describe(`Basic auth (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      await createClient(server, { id: 'svc', secret: 'svc:secret:with:colons', grant_types: ['basic'] });
    });
    after(() => server.close());

    const read = (authorization: string) => server.request('GET', '/Patient', { auth: null, headers: { authorization } });

    test('accepts a secret with colons, raw and form-encoded', async () => {
      assert.equal((await read(basic('svc', 'svc:secret:with:colons'))).status, 403, 'authenticated; not root');
      const encoded = `Basic ${Buffer.from(`svc:${encodeURIComponent('svc:secret:with:colons')}`).toString('base64')}`;
      assert.equal((await read(encoded)).status, 403);
    });

    test('answers anything malformed with 401 and WWW-Authenticate', async () => {
      for (const authorization of ['Basic', 'Basic !!!', `Basic ${Buffer.from('no-colon').toString('base64')}`, `Basic ${Buffer.from(':secret').toString('base64')}`, 'Digest abc']) {
        const response = await read(authorization);
        assert.equal(response.status, 401, authorization);
        assert.ok(response.headers.get('www-authenticate'), authorization);
        assert.equal(response.body.resourceType, 'OperationOutcome');
      }
    });

    test('a changed secret takes effect at once: the old one fails even though it was cached', async () => {
      await createClient(server, { id: 'rotating', secret: 'first-secret', grant_types: ['basic'] });
      assert.equal((await read(basic('rotating', 'first-secret'))).status, 403);
      assert.equal((await read(basic('rotating', 'first-secret'))).status, 403, 'served from the cache');
      await createClient(server, { id: 'rotating', secret: 'second-secret', grant_types: ['basic'] });
      assert.equal((await read(basic('rotating', 'first-secret'))).status, 401);
      assert.equal((await read(basic('rotating', 'second-secret'))).status, 403);
    });

    test('a deleted Client, or one without the basic grant any more, fails at once', async () => {
      await createClient(server, { id: 'doomed', secret: 'doomed-secret', grant_types: ['basic'] });
      assert.equal((await read(basic('doomed', 'doomed-secret'))).status, 403);
      await createClient(server, { id: 'doomed', secret: 'doomed-secret', grant_types: ['client_credentials'] });
      assert.equal((await read(basic('doomed', 'doomed-secret'))).status, 401);
      await createClient(server, { id: 'doomed', secret: 'doomed-secret', grant_types: ['basic'] });
      assert.equal((await read(basic('doomed', 'doomed-secret'))).status, 403);
      await server.request('DELETE', '/Client/doomed');
      assert.equal((await read(basic('doomed', 'doomed-secret'))).status, 401);
    });

    test('an unknown id and a wrong secret get the same status, body and headers', async () => {
      const wrong = await read(basic('svc', 'wrong'));
      const unknown = await read(basic('nobody', 'wrong'));
      assert.equal(unknown.status, 401);
      assert.equal(unknown.status, wrong.status);
      assert.equal(unknown.text, wrong.text);
      assert.deepEqual(headersOf(unknown), headersOf(wrong));
    });
  });

  describe(`brute-force throttling (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { throttle: { identityLimit: 3, addressLimit: 7, windowSeconds: 600, knownAddressSeconds: 86_400 } });
      await createClient(server, { id: 'target', secret: 'target-secret', grant_types: ['basic', 'client_credentials'] });
      await createClient(server, { id: 'bystander', secret: 'bystander-secret', grant_types: ['client_credentials'] });
    });
    after(() => server.close());

    test('an identity is throttled after its failures, with 429 and Retry-After, even for the right secret', async () => {
      for (let i = 0; i < 3; i++) {
        const response = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, { id: 'target', secret: `guess-${i}` });
        assert.equal(response.status, 401);
      }
      const blocked = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, { id: 'target', secret: 'target-secret' });
      assert.equal(blocked.status, 429);
      assert.equal(blocked.body.error, 'slow_down');
      assert.ok(Number(blocked.headers.get('retry-after')) > 0);
      const api = await server.request('GET', '/Patient', { auth: { id: 'target', secret: 'target-secret' } });
      assert.equal(api.status, 429, 'Basic auth on the API shares the count');
      assert.ok(Number(api.headers.get('retry-after')) > 0);
    });

    test('an unknown id is throttled exactly like a known one', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        statuses.push((await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, { id: 'ghost', secret: `guess-${i}` })).status);
      }
      assert.deepEqual(statuses, [401, 401, 401, 429]);
    });

    test('an address is throttled across identities once it reaches its limit', async () => {
      // 6 failures counted so far from this address (3 + 3; refused attempts are not counted); the 7th reaches the limit.
      await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, { id: 'someone-else', secret: 'guess' });
      const response = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, { id: 'bystander', secret: 'bystander-secret' });
      assert.equal(response.status, 429);
    });
  });

  describe(`throttling cannot lock the owner out (${engine})`, () => {
    const OWNER = '127.0.0.2';
    const ATTACKER = '127.0.0.3';
    const STRANGER = '127.0.0.4';
    const APP = { id: 'login-app', secret: 'login-app-secret' };
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { throttle: { identityLimit: 3, addressLimit: 100, windowSeconds: 600, knownAddressSeconds: 86_400 } });
      await createClient(server, { ...APP, grant_types: ['password'] });
      await createUser(server, { id: 'carol', password: 'carol-password' });
      await createUser(server, { id: 'dave', password: 'dave-password' });
    });
    after(() => server.close());

    const signIn = (from: string, username: string, password: string) =>
      postFormFrom(server, from, '/auth/token', { grant_type: 'password', username, password }, APP);

    test('the owner\'s known address still gets in after an attacker used up the identity\'s failures', async () => {
      assert.equal((await signIn(OWNER, 'carol', 'carol-password')).status, 200, 'the owner signs in: the address becomes known');
      for (let i = 0; i < 3; i++) assert.equal((await signIn(ATTACKER, 'carol', `guess-${i}`)).status, 400);
      const attacker = await signIn(ATTACKER, 'carol', 'carol-password');
      assert.equal(attacker.status, 429, 'the attacker is throttled, even with the right password');
      assert.ok(Number(attacker.retryAfter) > 0);
      assert.equal((await signIn(OWNER, 'carol', 'carol-password')).status, 200, 'the owner is not locked out');
    });

    test('an address that never authenticated as the identity is throttled with 429 and Retry-After', async () => {
      const stranger = await signIn(STRANGER, 'carol', 'carol-password');
      assert.equal(stranger.status, 429);
      assert.ok(Number(stranger.retryAfter) > 0);
    });

    test('a known address is still throttled by its own failures for the identity', async () => {
      assert.equal((await signIn(OWNER, 'dave', 'dave-password')).status, 200);
      for (let i = 0; i < 3; i++) assert.equal((await signIn(OWNER, 'dave', `typo-${i}`)).status, 400);
      const blocked = await signIn(OWNER, 'dave', 'dave-password');
      assert.equal(blocked.status, 429);
      assert.ok(Number(blocked.retryAfter) > 0);
    });

    test('under the lock, an unknown user and a known one get the same answer from the attacker\'s address', async () => {
      for (let i = 0; i < 3; i++) assert.equal((await signIn(ATTACKER, 'nobody', `guess-${i}`)).status, 400);
      const unknown = await signIn(ATTACKER, 'nobody', 'carol-password');
      const known = await signIn(ATTACKER, 'carol', 'carol-password');
      assert.equal(unknown.status, 429);
      assert.equal(known.status, unknown.status);
      assert.equal(JSON.parse(known.text).error, JSON.parse(unknown.text).error);
    });
  });
}
