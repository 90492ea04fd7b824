// The same grants and errors driven by an independent client library, oauth4webapi (panva), which checks the
// responses against the RFCs on its own: discovery, token responses, RFC 9068 access tokens, introspection.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { createClient, createUser } from '../helpers/oauth.ts';
import { ROOT, engines, startTestServer, type TestServer } from '../helpers/server.ts';

const insecure = { [oauth.allowInsecureRequests]: true };

async function expectOAuthError(promise: Promise<unknown>, status: number, error: string) {
  await assert.rejects(promise, (thrown: unknown) => {
    // A 401 with a Basic challenge (RFC 6749 §5.2, client_secret_basic) is raised as a challenge error.
    if (thrown instanceof oauth.WWWAuthenticateChallengeError) {
      assert.equal(thrown.status, status);
      assert.equal(thrown.cause[0].scheme, 'basic');
      return true;
    }
    assert.ok(thrown instanceof oauth.ResponseBodyError, String(thrown));
    assert.equal(thrown.status, status);
    assert.equal(thrown.error, error);
    return true;
  });
}

for (const engine of engines()) {
  describe(`with oauth4webapi as the client (${engine})`, () => {
    let server: TestServer;
    let as: oauth.AuthorizationServer;
    const cc: oauth.Client = { client_id: 'lib-cc' };
    const app: oauth.Client = { client_id: 'lib-app' };
    let signingKey: CryptoKey;

    before(async () => {
      server = await startTestServer(engine);
      const pair = await oauth.generateKeyPair('ES256', { extractable: true });
      signingKey = pair.privateKey;
      const jwk = { ...(await crypto.subtle.exportKey('jwk', pair.publicKey)), kid: 'lib-key' };
      await createClient(server, { id: 'lib-cc', secret: 'lib-cc-secret', grant_types: ['client_credentials'], scope: ['system/*.read'] });
      await createClient(server, { id: 'lib-jwt', grant_types: ['client_credentials'], jwks: { keys: [jwk] } });
      await createClient(server, { id: 'lib-app', secret: 'lib-app-secret', grant_types: ['password'], auth: { password: { refresh_token: true } } });
      await createClient(server, { id: 'lib-public', grant_types: ['password'], auth: { password: { secret_required: false, refresh_token: true } } });
      await createUser(server, { id: 'carol', password: 'carol-password', data: { given_name: 'Carol' } });
      const issuer = new URL(server.url);
      as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
    });
    after(() => server.close());

    test('discovery names the token, introspection, revocation and JWKS endpoints', () => {
      assert.equal(as.token_endpoint, `${server.url}/auth/token`);
      assert.equal(as.jwks_uri, `${server.url}/.well-known/jwks.json`);
      assert.equal(as.introspection_endpoint, `${server.url}/auth/introspect`);
      assert.equal(as.revocation_endpoint, `${server.url}/auth/revoke`);
    });

    test('client_credentials with client_secret_basic gives an RFC 9068 access token the library validates', async () => {
      const response = await oauth.clientCredentialsGrantRequest(as, cc, oauth.ClientSecretBasic('lib-cc-secret'), { scope: 'system/*.read' }, insecure);
      const result = await oauth.processClientCredentialsResponse(as, cc, response);
      assert.equal(result.token_type, 'bearer');
      assert.equal(result.scope, 'system/*.read');
      const request = new Request(`${server.url}/Patient`, { headers: { authorization: `Bearer ${result.access_token}` } });
      const claims = await oauth.validateJwtAccessToken(as, request, server.url, insecure);
      assert.equal(claims.client_id, 'lib-cc');
      assert.equal(claims.scope, 'system/*.read');
    });

    test('client_credentials with client_secret_post', async () => {
      const response = await oauth.clientCredentialsGrantRequest(as, cc, oauth.ClientSecretPost('lib-cc-secret'), {}, insecure);
      assert.equal(typeof (await oauth.processClientCredentialsResponse(as, cc, response)).access_token, 'string');
    });

    test('client_credentials with private_key_jwt; the library\'s assertion is single-use', async () => {
      const client = { client_id: 'lib-jwt' };
      const auth = oauth.PrivateKeyJwt({ key: signingKey, kid: 'lib-key' });
      const response = await oauth.clientCredentialsGrantRequest(as, client, auth, {}, insecure);
      assert.equal(typeof (await oauth.processClientCredentialsResponse(as, client, response)).access_token, 'string');
      let captured: string | undefined;
      const replaying = oauth.PrivateKeyJwt({ key: signingKey, kid: 'lib-key' }, { [oauth.modifyAssertion]: (_header, payload) => { payload.jti = 'fixed-jti'; } });
      const first = await oauth.clientCredentialsGrantRequest(as, client, replaying, {}, insecure);
      assert.equal(first.status, 200);
      captured = (await first.json()).access_token;
      assert.ok(captured);
      const second = await oauth.clientCredentialsGrantRequest(as, client, replaying, {}, insecure);
      await expectOAuthError(oauth.processClientCredentialsResponse(as, client, second), 401, 'invalid_client');
    });

    test('password, then refresh with rotation; the old refresh token used again is invalid_grant', async () => {
      const auth = oauth.ClientSecretBasic('lib-app-secret');
      const login = await oauth.genericTokenEndpointRequest(as, app, auth, 'password', { username: 'carol', password: 'carol-password' }, insecure);
      const first = await oauth.processGenericTokenEndpointResponse(as, app, login);
      assert.ok(first.refresh_token);
      const refreshed = await oauth.processRefreshTokenResponse(as, app, await oauth.refreshTokenGrantRequest(as, app, auth, first.refresh_token!, insecure));
      assert.ok(refreshed.refresh_token && refreshed.refresh_token !== first.refresh_token);
      const reuse = await oauth.refreshTokenGrantRequest(as, app, auth, first.refresh_token!, insecure);
      await expectOAuthError(oauth.processRefreshTokenResponse(as, app, reuse), 400, 'invalid_grant');
      const afterReuse = await oauth.refreshTokenGrantRequest(as, app, auth, refreshed.refresh_token!, insecure);
      await expectOAuthError(oauth.processRefreshTokenResponse(as, app, afterReuse), 400, 'invalid_grant');
    });

    test('a public client refreshes with oauth.None() (client_id in the body); the token response carries userinfo', async () => {
      const pub: oauth.Client = { client_id: 'lib-public' };
      const login = await oauth.genericTokenEndpointRequest(as, pub, oauth.None(), 'password', { username: 'carol', password: 'carol-password' }, insecure);
      const first = await oauth.processGenericTokenEndpointResponse(as, pub, login);
      assert.equal((first.userinfo as { sub?: string }).sub, 'carol');
      assert.equal((first.userinfo as { password?: string }).password, undefined);
      const refreshed = await oauth.processRefreshTokenResponse(as, pub, await oauth.refreshTokenGrantRequest(as, pub, oauth.None(), first.refresh_token!, insecure));
      assert.ok(refreshed.refresh_token && refreshed.refresh_token !== first.refresh_token);
      const reuse = await oauth.refreshTokenGrantRequest(as, pub, oauth.None(), first.refresh_token!, insecure);
      await expectOAuthError(oauth.processRefreshTokenResponse(as, pub, reuse), 400, 'invalid_grant');
    });

    test('userinfo for a password token', async () => {
      const auth = oauth.ClientSecretBasic('lib-app-secret');
      const tokens = await oauth.processGenericTokenEndpointResponse(as, app, await oauth.genericTokenEndpointRequest(as, app, auth, 'password', { username: 'carol', password: 'carol-password' }, insecure));
      const info = await oauth.processUserInfoResponse({ ...as, userinfo_endpoint: `${server.url}/auth/userinfo` }, app, 'carol', await oauth.userInfoRequest({ ...as, userinfo_endpoint: `${server.url}/auth/userinfo` }, app, tokens.access_token, insecure));
      assert.equal(info.sub, 'carol');
      assert.equal(info.given_name, 'Carol');
    });

    test('introspection and revocation', async () => {
      const auth = oauth.ClientSecretBasic('lib-cc-secret');
      const { access_token } = await oauth.processClientCredentialsResponse(as, cc, await oauth.clientCredentialsGrantRequest(as, cc, auth, {}, insecure));
      const active = await oauth.processIntrospectionResponse(as, cc, await oauth.introspectionRequest(as, cc, auth, access_token, insecure));
      assert.equal(active.active, true);
      assert.equal(active.client_id, 'lib-cc');
      await oauth.processRevocationResponse(await oauth.revocationRequest(as, cc, auth, access_token, insecure));
      const inactive = await oauth.processIntrospectionResponse(as, cc, await oauth.introspectionRequest(as, cc, auth, access_token, insecure));
      assert.deepEqual(inactive, { active: false });
    });

    describe('errors, as the library sees them', () => {
      test('invalid_client for a wrong secret and for an unknown client', async () => {
        const wrong = await oauth.clientCredentialsGrantRequest(as, cc, oauth.ClientSecretBasic('nope'), {}, insecure);
        await expectOAuthError(oauth.processClientCredentialsResponse(as, cc, wrong), 401, 'invalid_client');
        const stranger = { client_id: 'stranger' };
        const unknown = await oauth.clientCredentialsGrantRequest(as, stranger, oauth.ClientSecretPost('nope'), {}, insecure);
        await expectOAuthError(oauth.processClientCredentialsResponse(as, stranger, unknown), 401, 'invalid_client');
      });

      test('unauthorized_client for a grant the client does not list', async () => {
        const response = await oauth.clientCredentialsGrantRequest(as, app, oauth.ClientSecretBasic('lib-app-secret'), {}, insecure);
        await expectOAuthError(oauth.processClientCredentialsResponse(as, app, response), 400, 'unauthorized_client');
      });

      test('unsupported_grant_type', async () => {
        const response = await oauth.genericTokenEndpointRequest(as, cc, oauth.ClientSecretBasic('lib-cc-secret'), 'urn:example:unknown', {}, insecure);
        await expectOAuthError(oauth.processGenericTokenEndpointResponse(as, cc, response), 400, 'unsupported_grant_type');
      });

      test('invalid_scope', async () => {
        const response = await oauth.clientCredentialsGrantRequest(as, cc, oauth.ClientSecretBasic('lib-cc-secret'), { scope: 'system/*.write' }, insecure);
        await expectOAuthError(oauth.processClientCredentialsResponse(as, cc, response), 400, 'invalid_scope');
      });

      test('invalid_grant for a wrong password', async () => {
        const response = await oauth.genericTokenEndpointRequest(as, app, oauth.ClientSecretBasic('lib-app-secret'), 'password', { username: 'carol', password: 'wrong' }, insecure);
        await expectOAuthError(oauth.processGenericTokenEndpointResponse(as, app, response), 400, 'invalid_grant');
      });

      test('invalid_request for a password grant without username', async () => {
        const response = await oauth.genericTokenEndpointRequest(as, app, oauth.ClientSecretBasic('lib-app-secret'), 'password', { password: 'x' }, insecure);
        await expectOAuthError(oauth.processGenericTokenEndpointResponse(as, app, response), 400, 'invalid_request');
      });

      test('the root client is an ordinary client to the library too', async () => {
        const root = { client_id: ROOT.id };
        const response = await oauth.clientCredentialsGrantRequest(as, root, oauth.ClientSecretBasic(ROOT.secret), {}, insecure);
        assert.equal(typeof (await oauth.processClientCredentialsResponse(as, root, response)).access_token, 'string');
      });
    });
  });
}
