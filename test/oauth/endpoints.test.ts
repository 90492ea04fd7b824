// Introspection, revocation, userinfo, discovery, JWKS, key rotation, sessions and Bearer auth on the API.
import assert from 'node:assert/strict';
import { SignJWT, generateKeyPair } from 'jose';
import { after, before, describe, test } from 'node:test';
import { authServices } from '../../src/authn/services.ts';
import { createClient, createUser, decodeJwtHeader, decodeJwtPayload, eventually, postForm, withBearer } from '../helpers/oauth.ts';
import { ROOT, engines, startTestServer, type TestServer } from '../helpers/server.ts';

const RS = { id: 'rs', secret: 'rs-secret' };
const APP = { id: 'app', secret: 'app-secret' };

for (const engine of engines()) {
  describe(`token endpoints and Bearer auth (${engine})`, () => {
    let server: TestServer;
    const rootToken = async () => (await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, ROOT)).body.access_token as string;
    const login = async () =>
      (await postForm(server, '/auth/token', { grant_type: 'password', username: 'bob', password: 'bob-password' }, APP)).body as Record<string, string>;

    before(async () => {
      server = await startTestServer(engine);
      await createClient(server, { id: RS.id, secret: RS.secret, grant_types: ['client_credentials'] });
      await createClient(server, { id: APP.id, secret: APP.secret, grant_types: ['password'], auth: { password: { refresh_token: true } } });
      await createClient(server, { id: 'op', secret: 'op-secret', grant_types: ['client_credentials'], auth: { client_credentials: { token_format: 'opaque' } } });
      await createUser(server, { id: 'bob', password: 'bob-password', userName: 'bobby', data: { given_name: 'Bob', family_name: 'Builder' } });
    });
    after(() => server.close());

    describe('introspection (RFC 7662)', () => {
      test('an active JWT access token, asked by its client', async () => {
        const token = await rootToken();
        const response = await postForm(server, '/auth/introspect', { token }, ROOT);
        assert.equal(response.status, 200);
        assert.equal(response.body.active, true);
        assert.equal(response.body.client_id, 'root');
        assert.equal(response.body.sub, 'root');
        assert.equal(response.body.iss, server.url);
        assert.equal(response.body.sid, decodeJwtPayload(token).sid);
      });

      test('an opaque access token and a refresh token', async () => {
        const opaque = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, { id: 'op', secret: 'op-secret' });
        const asked = await postForm(server, '/auth/introspect', { token: opaque.body.access_token }, { id: 'op', secret: 'op-secret' });
        assert.equal(asked.body.active, true);
        assert.equal(asked.body.client_id, 'op');
        const tokens = await login();
        const refresh = await postForm(server, '/auth/introspect', { token: tokens.refresh_token, token_type_hint: 'refresh_token' }, APP);
        assert.equal(refresh.body.active, true);
        assert.equal(refresh.body.token_type, 'refresh_token');
        assert.equal(refresh.body.sub, 'bob');
      });

      test('an invalid token is exactly {"active": false}', async () => {
        for (const token of ['garbage', 'a.b.c', 'x'.repeat(43), (await rootToken()).slice(0, -4) + 'AAAA']) {
          const response = await postForm(server, '/auth/introspect', { token }, ROOT);
          assert.equal(response.status, 200);
          assert.equal(response.text, '{"active":false}');
        }
      });

      test('another client\'s token is {"active": false}', async () => {
        const response = await postForm(server, '/auth/introspect', { token: await rootToken() }, RS);
        assert.deepEqual(response.body, { active: false });
      });

      test('a resource server named in the audience may introspect', async () => {
        const token = (await postForm(server, '/auth/token', { grant_type: 'client_credentials', audience: 'rs' }, ROOT)).body.access_token;
        const response = await postForm(server, '/auth/introspect', { token }, RS);
        assert.equal(response.body.active, true);
      });

      test('requires client authentication', async () => {
        const response = await postForm(server, '/auth/introspect', { token: 'x' });
        assert.equal(response.status, 401);
        assert.equal(response.body.error, 'invalid_client');
        const missing = await postForm(server, '/auth/introspect', {}, ROOT);
        assert.equal(missing.status, 400);
        assert.equal(missing.body.error, 'invalid_request');
      });
    });

    describe('revocation (RFC 7009) and sessions', () => {
      test('revoking an access token ends it on the API at once', async () => {
        const token = await rootToken();
        assert.equal((await withBearer(server, 'GET', '/Patient', token)).status, 200);
        const revoked = await postForm(server, '/auth/revoke', { token }, ROOT);
        assert.equal(revoked.status, 200);
        const read = await withBearer(server, 'GET', '/Patient', token);
        assert.equal(read.status, 401);
        assert.match(read.headers.get('www-authenticate') ?? '', /^Bearer realm="warden", error="invalid_token"/);
        assert.deepEqual((await postForm(server, '/auth/introspect', { token }, ROOT)).body, { active: false });
      });

      test('revoking a refresh token ends its session: access token and refresh token', async () => {
        const tokens = await login();
        assert.equal((await postForm(server, '/auth/revoke', { token: tokens.refresh_token, token_type_hint: 'refresh_token' }, APP)).status, 200);
        assert.deepEqual((await postForm(server, '/auth/introspect', { token: tokens.access_token }, APP)).body, { active: false });
        const refresh = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, APP);
        assert.equal(refresh.body.error, 'invalid_grant');
      });

      test('an unknown token is answered 200 (§2.2)', async () => {
        assert.equal((await postForm(server, '/auth/revoke', { token: 'never-issued' }, ROOT)).status, 200);
      });

      test('another client cannot revoke a token: unauthorized_client, and the token lives', async () => {
        const token = await rootToken();
        const response = await postForm(server, '/auth/revoke', { token }, RS);
        assert.equal(response.status, 400);
        assert.equal(response.body.error, 'unauthorized_client');
        assert.equal((await withBearer(server, 'GET', '/Patient', token)).status, 200);
      });

      test('DELETE /Session/{id} ends its tokens at once', async () => {
        const token = await rootToken();
        const { sid } = decodeJwtPayload(token);
        assert.equal((await server.request('DELETE', `/Session/${sid}`)).status, 200);
        assert.equal((await withBearer(server, 'GET', '/Patient', token)).status, 401);
      });

      test('a deleted Client\'s tokens stop working', async () => {
        await createClient(server, { id: 'gone', secret: 'gone-secret', grant_types: ['client_credentials'] });
        const token = (await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, { id: 'gone', secret: 'gone-secret' })).body.access_token;
        assert.equal((await withBearer(server, 'GET', '/Patient', token)).status, 403);
        await server.request('DELETE', '/Client/gone');
        assert.equal((await withBearer(server, 'GET', '/Patient', token)).status, 401);
      });

      test('an expired token gets 401', async () => {
        await createClient(server, { id: 'short', secret: 'short-secret', grant_types: ['client_credentials'], auth: { client_credentials: { access_token_expiration: 1 } } });
        const token = (await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, { id: 'short', secret: 'short-secret' })).body.access_token;
        await eventually(async () => (await withBearer(server, 'GET', '/Patient', token)).status === 401);
        assert.match((await withBearer(server, 'GET', '/Patient', token)).headers.get('www-authenticate') ?? '', /invalid_token/);
      });
    });

    describe('Bearer tokens on the API (RFC 6750)', () => {
      test('a token signed by a foreign key, even with our kid, gets 401', async () => {
        const real = await rootToken();
        const { privateKey } = await generateKeyPair('RS256');
        const forged = await new SignJWT(decodeJwtPayload(real)).setProtectedHeader(decodeJwtHeader(real) as { alg: string }).sign(privateKey);
        const response = await withBearer(server, 'GET', '/Patient', forged);
        assert.equal(response.status, 401);
        assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      });

      test('an unsigned token (alg none) gets 401', async () => {
        const real = await rootToken();
        const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: decodeJwtHeader(real).kid })).toString('base64url');
        const unsigned = `${header}.${real.split('.')[1]}.`;
        assert.equal((await withBearer(server, 'GET', '/Patient', unsigned)).status, 401);
      });

      test('a malformed token gets 401 with invalid_token', async () => {
        const response = await withBearer(server, 'GET', '/Patient', 'not a token');
        assert.equal(response.status, 401);
        assert.equal(response.body.resourceType, 'OperationOutcome');
      });

      test('the identity carries client, session, claims and scopes', async () => {
        const token = await rootToken();
        const session = await withBearer(server, 'GET', `/Session/${decodeJwtPayload(token).sid}`, token);
        assert.equal(session.status, 200);
        assert.equal(session.body.client.id, 'root');
        const identity = await authServices(server.app.ctx).bearer.identify(token);
        assert.equal(identity.method, 'bearer');
        assert.equal(identity.client.id, 'root');
        assert.equal(identity.session?.id, decodeJwtPayload(token).sid);
        assert.equal(identity.jwt?.client_id, 'root');
        assert.deepEqual(identity.scopes, []);
      });
    });

    describe('userinfo', () => {
      test('gives the claims of the token\'s user', async () => {
        const tokens = await login();
        const response = await withBearer(server, 'GET', '/auth/userinfo', tokens.access_token);
        assert.equal(response.status, 200);
        assert.deepEqual(response.body, { sub: 'bob', given_name: 'Bob', family_name: 'Builder', preferred_username: 'bobby' });
      });

      test('refuses a token without a user (403 insufficient_scope) and a missing token (401)', async () => {
        const noUser = await withBearer(server, 'GET', '/auth/userinfo', await rootToken());
        assert.equal(noUser.status, 403);
        assert.equal(noUser.body.error, 'insufficient_scope');
        const none = await server.request('GET', '/auth/userinfo', { auth: null });
        assert.equal(none.status, 401);
        assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="warden"');
      });
    });

    describe('discovery and keys', () => {
      test('both metadata documents describe exactly what is supported', async () => {
        const oidc = await server.request('GET', '/.well-known/openid-configuration', { auth: null });
        const oauth = await server.request('GET', '/.well-known/oauth-authorization-server', { auth: null });
        assert.equal(oidc.status, 200);
        assert.deepEqual(oauth.body, oidc.body);
        assert.equal(oidc.body.issuer, server.url);
        assert.deepEqual(oidc.body.grant_types_supported, ['authorization_code', 'client_credentials', 'password', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange', 'implicit']);
        assert.deepEqual(oidc.body.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
        assert.equal(oidc.body.authorization_endpoint, `${server.url}/auth/authorize`);
        for (const endpoint of ['token_endpoint', 'introspection_endpoint', 'revocation_endpoint']) {
          const probe = await server.request('POST', new URL(oidc.body[endpoint]).pathname, { auth: null });
          assert.notEqual(probe.status, 404, endpoint);
        }
        const jwks = await server.request('GET', new URL(oidc.body.jwks_uri).pathname, { auth: null });
        assert.ok(jwks.body.keys.length >= 1);
        assert.ok(jwks.body.keys.every((key: any) => key.d === undefined && key.p === undefined), 'no private parts published');
      });

      test('rotation: new tokens use the new key, old tokens stay valid until their key is retired', async () => {
        const keys = authServices(server.app.ctx).keys;
        const before = await rootToken();
        const oldKid = decodeJwtHeader(before).kid;
        const newKid = await keys.rotate();
        assert.notEqual(newKid, oldKid);
        const after = await rootToken();
        assert.equal(decodeJwtHeader(after).kid, newKid);
        assert.equal((await withBearer(server, 'GET', '/Patient', before)).status, 200);
        assert.equal((await withBearer(server, 'GET', '/Patient', after)).status, 200);
        const published = (await server.request('GET', '/.well-known/jwks.json', { auth: null })).body.keys.map((key: any) => key.kid);
        assert.ok(published.includes(oldKid) && published.includes(newKid));
        await keys.retire(oldKid);
        assert.equal((await withBearer(server, 'GET', '/Patient', before)).status, 401);
        assert.equal((await withBearer(server, 'GET', '/Patient', after)).status, 200);
      });

      test('ES256 keys sign and verify too', async () => {
        const keys = authServices(server.app.ctx).keys;
        await keys.rotate('ES256');
        const jwks = (await server.request('GET', '/.well-known/jwks.json', { auth: null })).body.keys;
        assert.ok(jwks.some((key: any) => key.alg === 'ES256' && key.crv === 'P-256'));
      });

      test('keys are not made again at restart: they live in the store', async () => {
        const rows = await server.app.ctx.db.query<{ kid: string }>('select kid from signing_key');
        assert.ok(rows.length >= 1);
      });
    });
  });
}
