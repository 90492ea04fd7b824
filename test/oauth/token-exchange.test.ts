// RFC 8693 token exchange, as Aidbox has it since 2412: a Client that trusts an issuer (allowedIssuers) trades a
// JWT from it, minted here by a real oidc-provider and verified by the TokenIntrospector for that issuer, for
// Warden's own tokens acting for the User the token names.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, createUser, decodeJwtPayload, postForm, withBearer } from '../helpers/oauth.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { JWT_RESOURCE, startProvider, type TestProvider } from '../external/provider.ts';
import { TOKEN_EXCHANGE } from '../../src/iam/client-model.ts';
import { ACCESS_TOKEN_TYPE } from '../../src/oauth/grants/token-exchange.ts';

const EXCHANGER = { id: 'tokenexchange', secret: 'tokenexchange-secret' };

for (const engine of engines()) {
  describe(`token exchange (${engine})`, () => {
    let provider: TestProvider;
    let server: TestServer;

    before(async () => {
      provider = await startProvider();
      server = await startTestServer(engine, { externalTokens: { timeoutMs: 5000, clockSkewSeconds: 30, jwksRefetchIntervalSeconds: 30 } });
      const introspector = await server.request('PUT', '/TokenIntrospector/idp', {
        body: { resourceType: 'TokenIntrospector', type: 'jwt', jwks_uri: provider.jwksUri, jwt: { iss: provider.issuer, aud: JWT_RESOURCE }, speaks_for: [{ resourceType: 'User', id: 'erin' }] },
      });
      assert.ok(introspector.status < 300, introspector.text);
      // Aidbox's documented Client, with the provider as its trusted issuer.
      await createClient(server, {
        ...EXCHANGER,
        grant_types: [TOKEN_EXCHANGE],
        allowedIssuers: [provider.issuer],
        auth: { token_exchange: { token_format: 'jwt', refresh_token: true, access_token_expiration: 360, refresh_token_expiration: 864000 } },
      });
      await createUser(server, { id: 'erin', email: 'erin@example.com', password: 'erin password 12' });
      const policy = await server.request('PUT', '/AccessPolicy/erin-reads', {
        body: { resourceType: 'AccessPolicy', engine: 'matcho', matcho: { 'request-method': 'get', user: { id: 'erin' }, client: { id: EXCHANGER.id } } },
      });
      assert.ok(policy.status < 300, policy.text);
      await server.request('PUT', '/Patient/pt-1', { body: { resourceType: 'Patient' } });
    });
    after(async () => {
      await server?.close();
      await provider?.close();
    });

    const exchange = (subjectToken: string, extra: Record<string, string> = {}) =>
      postForm(server, '/auth/token', { grant_type: TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN_TYPE, ...extra }, EXCHANGER);

    test('a token minted by oidc-provider for User erin becomes Warden\'s token acting for erin, in the client\'s settings', async () => {
      provider.extraClaims = { box_user: 'erin' };
      const subjectToken = await provider.token(JWT_RESOURCE);
      const response = await exchange(subjectToken);
      assert.equal(response.status, 200, response.text);
      assert.equal(response.body.issued_token_type, ACCESS_TOKEN_TYPE, 'RFC 8693 §2.2.1');
      assert.equal(response.body.token_type, 'bearer');
      assert.equal(response.body.expires_in, 360);
      const claims = decodeJwtPayload(response.body.access_token);
      assert.equal(claims.sub, 'erin');
      assert.equal(claims.client_id, EXCHANGER.id);
      assert.equal(claims.iss, server.url);
      const read = await withBearer(server, 'GET', '/Patient/pt-1', response.body.access_token);
      assert.equal(read.status, 200, read.text);
      const userinfo = await withBearer(server, 'GET', '/auth/userinfo', response.body.access_token);
      assert.equal(userinfo.body.sub, 'erin');
      // Aidbox's refresh_token: true gives a refresh token; refreshing keeps the exchanged identity.
      assert.equal(typeof response.body.refresh_token, 'string');
      const refreshed = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: response.body.refresh_token }, EXCHANGER);
      assert.equal(refreshed.status, 200, refreshed.text);
      assert.equal(decodeJwtPayload(refreshed.body.access_token).sub, 'erin');
    });

    test('the sub claim names the User when there is no box_user', async () => {
      provider.extraClaims = {};
      const subjectToken = await provider.sign({ iss: provider.issuer, aud: JWT_RESOURCE, sub: 'erin', exp: Math.floor(Date.now() / 1000) + 300 });
      const response = await exchange(subjectToken);
      assert.equal(response.status, 200, response.text);
      assert.equal(decodeJwtPayload(response.body.access_token).sub, 'erin');
    });

    test('a token that names no User of Warden is invalid_grant', async () => {
      provider.extraClaims = {};
      const response = await exchange(await provider.token(JWT_RESOURCE));
      assert.equal(response.status, 400, response.text);
      assert.equal(response.body.error, 'invalid_grant');
      assert.match(response.body.error_description, /names no User/);
    });

    test('discovery lists the grant; a Client without it is unauthorized_client', async () => {
      const discovery = await server.request('GET', '/.well-known/oauth-authorization-server', { auth: null });
      assert.ok(discovery.body.grant_types_supported.includes(TOKEN_EXCHANGE));
      await createClient(server, { id: 'plain', secret: 'plain-secret', grant_types: ['client_credentials'], allowedIssuers: [provider.issuer] });
      provider.extraClaims = { box_user: 'erin' };
      const response = await postForm(
        server, '/auth/token',
        { grant_type: TOKEN_EXCHANGE, subject_token: await provider.token(JWT_RESOURCE), subject_token_type: ACCESS_TOKEN_TYPE },
        { id: 'plain', secret: 'plain-secret' },
      );
      assert.equal(response.status, 400, response.text);
      assert.equal(response.body.error, 'unauthorized_client');
    });

    test('malformed requests are invalid_request with what to fix', async () => {
      const token = await provider.token(JWT_RESOURCE);
      const missing = await postForm(server, '/auth/token', { grant_type: TOKEN_EXCHANGE, subject_token_type: ACCESS_TOKEN_TYPE }, EXCHANGER);
      assert.equal(missing.body.error, 'invalid_request');
      assert.match(missing.body.error_description, /subject_token/);
      const saml = await exchange(token, { subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' });
      assert.equal(saml.body.error, 'invalid_request');
      const actor = await exchange(token, { actor_token: token, actor_token_type: ACCESS_TOKEN_TYPE });
      assert.equal(actor.body.error, 'invalid_request');
      assert.match(actor.body.error_description, /delegation/);
    });
  });
}
