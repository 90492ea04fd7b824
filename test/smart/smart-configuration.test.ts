import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

for (const engine of engines()) {
  describe(`SMART discovery (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
    });
    after(() => server.close());

    test('GET /.well-known/smart-configuration needs no credentials and names the endpoints of this server', async () => {
      const response = await server.request('GET', '/.well-known/smart-configuration', { auth: null });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      const config = response.body;
      assert.equal(config.issuer, server.url);
      assert.equal(config.authorization_endpoint, `${server.url}/auth/authorize`);
      assert.equal(config.token_endpoint, `${server.url}/auth/token`);
      assert.equal(config.jwks_uri, `${server.url}/.well-known/jwks.json`);
      assert.ok(config.grant_types_supported.includes('authorization_code'));
      assert.ok(config.grant_types_supported.includes('client_credentials'));
    });

    test('offers S256 and never plain', async () => {
      const { body } = await server.request('GET', '/.well-known/smart-configuration', { auth: null });
      assert.deepEqual(body.code_challenge_methods_supported, ['S256']);
    });

    test('lists the capabilities SMART App Launch 2.x defines for what Warden does', async () => {
      const { body } = await server.request('GET', '/.well-known/smart-configuration', { auth: null });
      for (const capability of ['launch-ehr', 'launch-standalone', 'client-public', 'client-confidential-symmetric', 'client-confidential-asymmetric', 'context-ehr-patient', 'context-ehr-encounter', 'context-standalone-patient', 'context-standalone-encounter', 'permission-offline', 'permission-online', 'permission-v1', 'permission-v2', 'permission-patient', 'sso-openid-connect']) {
        assert.ok(body.capabilities.includes(capability), capability);
      }
      assert.ok(body.token_endpoint_auth_signing_alg_values_supported.includes('RS384'));
      assert.ok(body.token_endpoint_auth_signing_alg_values_supported.includes('ES384'));
    });

    test('the CapabilityStatement names SMART-on-FHIR and the OAuth endpoints', async () => {
      const { body } = await server.request('GET', '/metadata', { auth: null });
      const security = body.rest[0].security;
      assert.equal(security.service[0].coding[0].code, 'SMART-on-FHIR');
      const uris = security.extension.find((e: { url: string }) => e.url.endsWith('/oauth-uris')).extension;
      assert.deepEqual(uris.find((e: { url: string }) => e.url === 'token').valueUri, `${server.url}/auth/token`);
    });

    test('any origin may read it (CORS)', async () => {
      const response = await server.request('GET', '/.well-known/smart-configuration', { auth: null, headers: { origin: 'https://app.example' } });
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
    });
  });
}
