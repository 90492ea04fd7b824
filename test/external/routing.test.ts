// External tokens beside Warden's own: Warden's tokens keep their own path, and never reach another provider.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { basic, engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { bearer, hmac, now, stubServer, type StubServer } from './tokens.ts';

const READER = { id: 'reader', secret: 'reader-secret' };
const SECRET = 'shared-hmac-secret-of-at-least-32-bytes';
const FOREIGN = 'an-opaque-token-from-elsewhere-0123456789';

for (const engine of engines()) {
  describe(`Warden's own tokens beside TokenIntrospectors (${engine})`, () => {
    let server: TestServer;
    let lenient: StubServer;

    async function wardenToken(format: 'jwt' | 'opaque'): Promise<string> {
      await server.request('PUT', `/Client/${READER.id}`, {
        body: { resourceType: 'Client', secret: READER.secret, grant_types: ['client_credentials'], auth: { client_credentials: { token_format: format } } },
      });
      const response = await fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(READER.id, READER.secret) },
        body: 'grant_type=client_credentials',
      });
      const body = (await response.json()) as { access_token: string };
      assert.equal(response.status, 200, JSON.stringify(body));
      return body.access_token;
    }

    before(async () => {
      // An introspection endpoint that knows one token of its own and counts every call.
      lenient = await stubServer((_req, body) => ({
        status: 200,
        body: new URLSearchParams(body).get('token') === FOREIGN ? { active: true, client_id: READER.id, exp: now() + 600 } : { active: false },
      }));
      server = await startTestServer(engine);
      const writes = [
        server.request('PUT', '/TokenIntrospector/lenient', {
          // It may speak for the local Client it names in its answers.
          body: { resourceType: 'TokenIntrospector', type: 'opaque', introspection_endpoint: { url: `${lenient.url}/introspect` }, speaks_for: [{ resourceType: 'Client', id: READER.id }] },
        }),
        server.request('PUT', '/AccessPolicy/reader-reads', {
          body: { resourceType: 'AccessPolicy', engine: 'matcho', matcho: { 'request-method': 'get' }, link: [{ resourceType: 'Client', id: READER.id }] },
        }),
      ];
      for (const response of await Promise.all(writes)) assert.ok(response.status < 300, response.text);
      // An introspector that claims Warden's own issuer, with a secret an attacker knows. The API refuses to store
      // one (test/security/external-tokens.test.ts), so it is written past it, as a hand-made change would be.
      const impostor = { resourceType: 'TokenIntrospector', id: 'impostor', type: 'jwt', jwt: { iss: server.url, aud: 'warden', secret: SECRET } };
      await server.app.ctx.db.query(
        `insert into resource (type, id, version_id, last_updated, deleted, resource) values ('TokenIntrospector', 'impostor', 1, now(), false, $1::text::jsonb)`,
        [JSON.stringify(impostor)],
      );
    });
    after(async () => {
      await server.close();
      await lenient.close();
    });

    test('a Warden-issued JWT works, and is never checked by a TokenIntrospector', async () => {
      const token = await wardenToken('jwt');
      const read = await server.request('GET', '/Patient', bearer(token));
      assert.equal(read.status, 200, read.text);
      assert.equal(lenient.hits, 0);
    });

    test('an introspector naming Warden as its issuer cannot make Warden accept a JWT it did not sign', async () => {
      const forged = await hmac(SECRET, { iss: server.url, sub: READER.id, client_id: READER.id, exp: now() + 60 });
      const read = await server.request('GET', '/Patient', bearer(forged));
      assert.equal(read.status, 401, read.text);
    });

    test('a Warden-issued opaque token works and is never sent to an external introspection endpoint', async () => {
      const token = await wardenToken('opaque');
      const read = await server.request('GET', '/Patient', bearer(token));
      assert.equal(read.status, 200, read.text);
      assert.equal(lenient.hits, 0);
    });

    test('a revoked Warden opaque token is refused', async () => {
      const token = await wardenToken('opaque');
      const revoked = await fetch(`${server.url}/auth/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(READER.id, READER.secret) },
        body: `token=${token}`,
      });
      assert.equal(revoked.status, 200);
      const read = await server.request('GET', '/Patient', bearer(token));
      assert.equal(read.status, 401, read.text);
    });

    test('an opaque token Warden does not know goes to the external endpoint, which may vouch for it', async () => {
      const calls = lenient.hits;
      const read = await server.request('GET', '/Patient', bearer(FOREIGN));
      assert.equal(read.status, 200, read.text);
      assert.equal(lenient.hits, calls + 1);
    });
  });
}
