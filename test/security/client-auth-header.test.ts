// X-Client-Auth (Aidbox): a Bearer token from another identity provider names the user; the header names, and
// must prove, the Warden Client calling. Attacks: a wrong or borrowed client credential, a client without the
// basic grant, a malformed header, and the header used to change the client of Warden's own token.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { basic, engines, startTestServer, type TestServer } from '../helpers/server.ts';

const ISSUER = 'https://hospital-idp.example';
const SECRET = 'hmac-secret-of-the-hospital-idp-32-bytes-long';
const APP = { id: 'ward-app', secret: 'ward-app-secret' };
const AUDIENCE = 'https://warden.example';

const externalToken = () =>
  new SignJWT({ sub: 'nurse-1', scope: 'openid', aud: AUDIENCE })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(SECRET));

for (const engine of engines()) {
  describe(`X-Client-Auth beside an external token (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      for (const [path, body] of [
        ['/TokenIntrospector/hospital', { type: 'jwt', jwt: { iss: ISSUER, aud: AUDIENCE, secret: SECRET } }],
        ['/Client/ward-app', { secret: APP.secret, grant_types: ['basic'] }],
        ['/Client/no-basic', { secret: 'no-basic-secret', grant_types: ['client_credentials'] }],
        ['/Client/svc', { secret: 'svc-secret', grant_types: ['client_credentials'] }],
        ['/AccessPolicy/ward-app-reads', { engine: 'matcho', link: [{ resourceType: 'Client', id: 'ward-app' }], matcho: { 'request-method': 'get' } }],
        ['/Patient/p1', { resourceType: 'Patient' }],
      ] as const) {
        const put = await server.request('PUT', path, { body });
        assert.ok(put.status < 300, put.text);
      }
    });
    after(() => server?.close());

    const read = (headers: Record<string, string>) => server.request('GET', '/Patient/p1', { auth: null, headers });

    test('the external token alone acts as the introspector\'s synthetic client: no policy, 403', async () => {
      assert.equal((await read({ authorization: `Bearer ${await externalToken()}` })).status, 403);
    });

    test('with the Client proven by X-Client-Auth, the policies linked to that Client apply', async () => {
      const response = await read({ authorization: `Bearer ${await externalToken()}`, 'x-client-auth': basic(APP.id, APP.secret) });
      assert.equal(response.status, 200, response.text);
    });

    test('a wrong secret in X-Client-Auth is a 401, not a fallback to the synthetic client (RFC 7617)', async () => {
      const response = await read({ authorization: `Bearer ${await externalToken()}`, 'x-client-auth': basic(APP.id, 'guess') });
      assert.equal(response.status, 401);
      assert.equal(response.body.resourceType, 'OperationOutcome');
    });

    test('a Client without the basic grant cannot be named by X-Client-Auth', async () => {
      const response = await read({ authorization: `Bearer ${await externalToken()}`, 'x-client-auth': basic('no-basic', 'no-basic-secret') });
      assert.equal(response.status, 401);
    });

    test('a malformed X-Client-Auth is a 401 with a precise message', async () => {
      for (const header of ['Bearer abc', 'Basic !!!', 'Basic']) {
        const response = await read({ authorization: `Bearer ${await externalToken()}`, 'x-client-auth': header });
        assert.equal(response.status, 401, header);
        assert.equal(response.body.resourceType, 'OperationOutcome');
      }
    });

    test('X-Client-Auth does not change the client of Warden\'s own token', async () => {
      const token = await fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'svc', client_secret: 'svc-secret' }),
      });
      const { access_token } = (await token.json()) as { access_token: string };
      const response = await read({ authorization: `Bearer ${access_token}`, 'x-client-auth': basic(APP.id, APP.secret) });
      assert.equal(response.status, 403, 'svc has no policy; ward-app\'s does not apply to it');
    });
  });
}
