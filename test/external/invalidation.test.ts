// A change to a TokenIntrospector reaches every server process through the database's NOTIFY, whoever made it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApp, type App } from '../../src/app.ts';
import { engines, freePort, request, startTestServer, type TestServer } from '../helpers/server.ts';
import { bearer, hmac, now } from './tokens.ts';

const ISSUER = 'https://hs.example';
const SECRET = 'shared-hmac-secret-of-at-least-32-bytes';
const introspector = { resourceType: 'TokenIntrospector', type: 'jwt', jwt: { iss: ISSUER, aud: 'warden', secret: SECRET } };

/** Asks until `check` holds; each try is a real request, so this waits for an event, not for a time. */
async function eventually(check: () => Promise<boolean>, what: string) {
  for (let attempt = 0; attempt < 500; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`never happened: ${what}`);
}

for (const engine of engines()) {
  describe(`TokenIntrospector changes (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      const writes = [
        server.request('PUT', '/TokenIntrospector/hs', { body: introspector }),
        server.request('PUT', '/AccessPolicy/hs-reads', {
          body: { resourceType: 'AccessPolicy', engine: 'matcho', matcho: { 'request-method': 'get', jwt: { iss: ISSUER } } },
        }),
      ];
      for (const response of await Promise.all(writes)) assert.ok(response.status < 300, response.text);
    });
    after(() => server.close());

    test('a change made with plain SQL, past the API, is picked up through NOTIFY', async () => {
      const token = await hmac(SECRET, { iss: ISSUER, aud: 'warden', exp: now() + 300 });
      assert.equal((await server.request('GET', '/Patient', bearer(token))).status, 200);
      await server.app.ctx.db.query(
        `update resource set resource = jsonb_set(resource, '{jwt,secret}', to_jsonb($1::text))
         where type = 'TokenIntrospector' and id = 'hs'`,
        ['a-different-secret-of-at-least-32-bytes!'],
      );
      await eventually(async () => (await server.request('GET', '/Patient', bearer(token))).status === 401, 'the old secret refused');
    });
  });
}

if (engines().includes('postgres')) {
  describe('TokenIntrospector changes across two server processes on one PostgreSQL', () => {
    let first: TestServer;
    let second: App;
    let secondUrl: string;
    before(async () => {
      first = await startTestServer('postgres');
      const port = await freePort();
      secondUrl = `http://127.0.0.1:${port}`;
      second = await startApp({ ...first.config, port, baseUrl: secondUrl }, { logger: false });
      await second.server.listen({ port, host: '127.0.0.1' });
      const policy = await first.request('PUT', '/AccessPolicy/hs-reads', {
        body: { resourceType: 'AccessPolicy', engine: 'matcho', matcho: { 'request-method': 'get', jwt: { iss: ISSUER } } },
      });
      assert.equal(policy.status, 201, policy.text);
    });
    after(async () => {
      await second.close();
      await first.close();
    });

    test('an introspector created, then deleted, in one process is honoured, then refused, by the other', async () => {
      const token = await hmac(SECRET, { iss: ISSUER, aud: 'warden', exp: now() + 300 });
      const read = () => request(secondUrl, 'GET', '/Patient', bearer(token));
      assert.equal((await read()).status, 401, 'the second process has loaded its (empty) introspectors');
      assert.equal((await first.request('PUT', '/TokenIntrospector/hs', { body: introspector })).status, 201);
      await eventually(async () => (await read()).status === 200, 'the second process trusts the new introspector');
      assert.equal((await first.request('DELETE', '/TokenIntrospector/hs')).status, 200);
      await eventually(async () => (await read()).status === 401, 'the second process forgets the deleted introspector');
    });
  });
}
