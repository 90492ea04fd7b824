import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { basic, engines, startTestServer, type TestServer } from '../helpers/server.ts';

const WIDE = { id: 'wide', secret: 'wide-secret' };

for (const engine of engines()) {
  describe(`hardening (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      await server.request('PUT', '/Client/wide', { body: { secret: WIDE.secret, grant_types: ['basic'] } });
      await server.request('PUT', '/AccessPolicy/wide', {
        body: { engine: 'allow', link: [{ resourceType: 'Client', id: 'wide' }] },
      });
    });
    after(() => server.close());

    test('a NUL character in credentials, forms or search values is a 4xx, never a 500', async () => {
      const nulBasic = await server.request('GET', '/Patient', { headers: { authorization: basic('ro\u0000ot', 'x') }, auth: null });
      assert.ok(nulBasic.status >= 400 && nulBasic.status < 500, `Basic: ${nulBasic.status}`);
      const token = await fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&client_id=ro%00ot&client_secret=x',
      });
      assert.equal(token.status, 400);
      assert.equal((await token.json()).error, 'invalid_request');
      const search = await server.request('GET', '/Patient?name=%00');
      assert.equal(search.status, 400);
      assert.equal(search.body.resourceType, 'OperationOutcome');
      const authorize = await fetch(`${server.url}/auth/authorize?client_id=%00&response_type=code`);
      assert.ok(authorize.status >= 400 && authorize.status < 500, `authorize: ${authorize.status}`);
    });

    test('a catch-all allow policy reads Patients but neither writes nor reads credential-bearing IAM resources', async () => {
      assert.equal((await server.request('GET', '/Patient', { auth: WIDE })).status, 200);
      const introspector = await server.request('PUT', '/TokenIntrospector/evil', {
        auth: WIDE,
        body: { type: 'jwt', jwt: { iss: 'https://evil.example', secret: 'evil-evil-evil-evil-evil-evil-evil-evil' } },
      });
      assert.equal(introspector.status, 403);
      assert.equal((await server.request('PUT', '/Grant/g', { auth: WIDE, body: {} })).status, 403);
      assert.equal((await server.request('GET', '/Client/root', { auth: WIDE })).status, 403);
      assert.equal((await server.request('GET', '/User', { auth: WIDE })).status, 403);
    });

    test('a Session cannot be written through the API, so a revoked one cannot be brought back', async () => {
      const put = await server.request('PUT', '/Session/s1', { body: { resourceType: 'Session' } });
      assert.equal(put.status, 405);
      assert.equal(put.body.resourceType, 'OperationOutcome');
      assert.equal((await server.request('POST', '/Session', { body: {} })).status, 405);
    });
  });
}
