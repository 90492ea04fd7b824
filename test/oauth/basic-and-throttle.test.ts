// Basic auth on the API (RFC 7617, RFC 6749 §2.3.1), its secret cache rules, and brute-force throttling.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, postForm } from '../helpers/oauth.ts';
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
      server = await startTestServer(engine, { throttle: { identityLimit: 3, addressLimit: 7, windowSeconds: 600 } });
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
}
