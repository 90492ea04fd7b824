// Opaque access tokens from a real provider (oidc-provider), checked by its RFC 7662 introspection endpoint.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { basic, engines, startTestServer, type Response, type TestServer } from '../helpers/server.ts';
import { OPAQUE_RESOURCE, RS, startProvider, type TestProvider } from './provider.ts';
import { attackerKey, bearer, now, stubServer, type StubServer } from './tokens.ts';

const externalTokens = { timeoutMs: 5000, clockSkewSeconds: 30, jwksRefetchIntervalSeconds: 30 };

function assertRefused(response: Response, reason: RegExp) {
  assert.equal(response.status, 401, response.text);
  assert.match(response.body.issue[0].diagnostics, reason);
  assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
}

for (const engine of engines()) {
  describe(`external opaque tokens (${engine})`, () => {
    let provider: TestProvider;
    let server: TestServer;
    let slow: StubServer;
    const introspector = () => ({
      resourceType: 'TokenIntrospector',
      type: 'opaque',
      introspection_endpoint: { url: provider.introspectionUrl, authorization: basic(RS.id, RS.secret) },
      cache_ttl: 60,
    });

    before(async () => {
      provider = await startProvider();
      slow = await stubServer('hang');
      server = await startTestServer(engine, { externalTokens });
      const writes = [
        server.request('PUT', '/TokenIntrospector/idp-opaque', { body: introspector() }),
        // The introspection answer is what policies see as `token`.
        server.request('PUT', '/AccessPolicy/opaque-reads', {
          body: { resourceType: 'AccessPolicy', engine: 'matcho', matcho: { 'request-method': 'get', token: { client_id: 'ext-app', aud: OPAQUE_RESOURCE, scope: '#read' } } },
        }),
        server.request('PUT', '/Patient/pt-1', { body: { resourceType: 'Patient' } }),
      ];
      for (const response of await Promise.all(writes)) assert.ok(response.status < 300, response.text);
    });
    after(async () => {
      await server.close();
      await provider.close();
      await slow.close();
    });

    test('an active token reads the API under a policy on its introspection answer', async () => {
      const token = await provider.token(OPAQUE_RESOURCE);
      const read = await server.request('GET', '/Patient/pt-1', bearer(token));
      assert.equal(read.status, 200, read.text);
      assert.equal((await server.request('DELETE', '/Patient/pt-1', bearer(token))).status, 403);
    });

    test('the answer is cached by token hash: a second request makes no second call', async () => {
      const token = await provider.token(OPAQUE_RESOURCE);
      const calls = provider.counts.introspection;
      await Promise.all([1, 2, 3].map(() => server.request('GET', '/Patient/pt-1', bearer(token))));
      assert.equal(provider.counts.introspection, calls + 1);
      assert.equal((await server.request('GET', '/Patient/pt-1', bearer(token))).status, 200);
      assert.equal(provider.counts.introspection, calls + 1);
    });

    test('a token the provider does not know is refused', async () => {
      assertRefused(await server.request('GET', '/Patient/pt-1', bearer('made-up-token-0123456789abcdef')), /not active/);
    });

    test('a JWT of an issuer with no JWT introspector goes to the opaque introspector, which refuses it', async () => {
      const stranger = await attackerKey('stranger');
      const calls = provider.counts.introspection;
      const jwt = await stranger.sign({ iss: 'https://stranger.example', exp: now() + 60 });
      assertRefused(await server.request('GET', '/Patient/pt-1', bearer(jwt)), /not active/);
      assert.equal(provider.counts.introspection, calls + 1);
    });

    test('wrong credentials for the introspection endpoint give 401, never a 500', async () => {
      await server.request('PUT', '/TokenIntrospector/idp-opaque', {
        body: { ...introspector(), introspection_endpoint: { url: provider.introspectionUrl, authorization: basic(RS.id, 'wrong') } },
      });
      try {
        const token = await provider.token(OPAQUE_RESOURCE);
        assertRefused(await server.request('GET', '/Patient/pt-1', bearer(token)), /could not be reached/);
      } finally {
        await server.request('PUT', '/TokenIntrospector/idp-opaque', { body: introspector() });
      }
    });

    test('an introspection endpoint that never answers gives 401 after the timeout; other requests go on', async () => {
      await server.request('PUT', '/TokenIntrospector/idp-opaque', {
        body: { ...introspector(), introspection_endpoint: { url: `${slow.url}/introspect` } },
      });
      try {
        const arrived = slow.nextRequest();
        const stalled = server.request('GET', '/Patient/pt-1', bearer('token-for-the-slow-endpoint'));
        await arrived;
        const other = await server.request('GET', '/Patient/pt-1');
        assert.equal(other.status, 200);
        assert.equal(slow.open, 1, 'the introspection call was still waiting');
        assertRefused(await stalled, /could not be reached/);
      } finally {
        await server.request('PUT', '/TokenIntrospector/idp-opaque', { body: introspector() });
      }
    });

    test('an introspection endpoint that is down gives 401', async () => {
      await server.request('PUT', '/TokenIntrospector/idp-opaque', {
        body: { ...introspector(), introspection_endpoint: { url: 'http://127.0.0.1:9/introspect' } },
      });
      try {
        assertRefused(await server.request('GET', '/Patient/pt-1', bearer('any-token-at-all')), /could not be reached/);
      } finally {
        await server.request('PUT', '/TokenIntrospector/idp-opaque', { body: introspector() });
      }
    });
  });
}
