// The TokenIntrospector write rule: what is accepted, and a precise 422 for everything malformed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { attackerKey } from './tokens.ts';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!';

for (const engine of engines()) {
  describe(`TokenIntrospector write rule (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { allowInsecureJwksUris: false });
    });
    after(() => server.close());

    const put = (id: string, body: Record<string, unknown>) =>
      server.request('PUT', `/TokenIntrospector/${id}`, { body: { resourceType: 'TokenIntrospector', ...body } });

    async function rejects(body: Record<string, unknown>, field: string, message: RegExp) {
      const response = await put('bad', body);
      assert.equal(response.status, 422, response.text);
      assert.equal(response.body.resourceType, 'OperationOutcome');
      assert.deepEqual(response.body.issue[0].expression, [`TokenIntrospector.${field}`]);
      assert.match(response.body.issue[0].diagnostics, message);
    }

    test('accepts Aidbox shapes: jwks_uri, inline keys, HS256 secret, opaque introspection', async () => {
      const key = await attackerKey('k1');
      const shapes = {
        jwks: { type: 'jwt', jwks_uri: 'https://idp.example/jwks', jwt: { iss: 'https://idp.example', aud: 'warden' }, cache_ttl: 600 },
        inline: { type: 'jwt', jwt: { iss: 'https://inline.example', aud: ['api'], keys: [key.publicJwk] }, create_user: true },
        secret: { type: 'jwt', jwt: { iss: 'https://hs.example', aud: 'warden', secret: SECRET } },
        opaque: {
          type: 'opaque',
          introspection_endpoint: { url: 'https://idp.example/introspect', authorization: 'Basic cnM6c2VjcmV0' },
          identity_provider: { resourceType: 'IdentityProvider', id: 'idp' },
        },
        any: { type: 'jwt', jwks_uri: 'https://any.example/jwks', jwt: { iss: 'https://any.example', any_audience: true } },
      };
      for (const [id, body] of Object.entries(shapes)) {
        const response = await put(id, body);
        assert.equal(response.status, 201, `${id}: ${response.text}`);
      }
    });

    test('requires a type, and only jwt or opaque', async () => {
      await rejects({ jwt: { iss: 'x' } }, 'type', /required|type/);
      await rejects({ type: 'saml' }, 'type', /must be one of "jwt", "opaque"/);
    });

    test('a jwt introspector needs jwt.iss', async () => {
      await rejects({ type: 'jwt', jwks_uri: 'https://idp.example/jwks' }, 'jwt.iss', /required/);
    });

    test('a jwt introspector needs exactly one key source, so a secret never meets public keys', async () => {
      await rejects({ type: 'jwt', jwt: { iss: 'https://a' } }, 'jwt', /needs one key source/);
      await rejects(
        { type: 'jwt', jwks_uri: 'https://a/jwks', jwt: { iss: 'https://a', secret: SECRET } },
        'jwt.secret',
        /cannot be combined with jwks_uri/,
      );
      const key = await attackerKey();
      await rejects({ type: 'jwt', jwt: { iss: 'https://a', secret: SECRET, keys: [key.publicJwk] } }, 'jwt.secret', /cannot be combined with jwt.keys/);
    });

    test('an HMAC secret shorter than 32 bytes is refused (RFC 7518 §3.2)', async () => {
      await rejects({ type: 'jwt', jwt: { iss: 'https://a', secret: 'secret' } }, 'jwt.secret', /at least 32 bytes/);
    });

    test('inline keys must be usable public signing keys', async () => {
      const key = await attackerKey();
      const { privateKey } = key;
      const { exportJWK } = await import('jose');
      const privateJwk = await exportJWK(privateKey);
      await rejects({ type: 'jwt', jwt: { iss: 'https://a', keys: [privateJwk] } }, 'jwt.keys.0', /private key/);
      await rejects({ type: 'jwt', jwt: { iss: 'https://a', keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, 'jwt.keys.0.kty', /RSA, EC or OKP/);
      await rejects({ type: 'jwt', jwt: { iss: 'https://a', keys: [{ ...key.publicJwk, alg: 'HS256' }] } }, 'jwt.keys.0.alg', /must be one of RS256/);
      await rejects({ type: 'jwt', jwt: { iss: 'https://a', keys: [{ ...key.publicJwk, use: 'enc' }] } }, 'jwt.keys.0.use', /must be "sig"/);
      await rejects({ type: 'jwt', jwt: { iss: 'https://a', keys: [{ kty: 'RSA', n: 'AQAB' }] } }, 'jwt.keys.0', /not a usable public key/);
    });

    test('endpoints must be https URLs, not link-local or metadata addresses, without credentials', async () => {
      await rejects({ type: 'jwt', jwks_uri: 'http://idp.example/jwks', jwt: { iss: 'https://a' } }, 'jwks_uri', /https/);
      // Loopback http needs WARDEN_ALLOW_INSECURE_JWKS_URIS too (test/security/external-tokens.test.ts).
      await rejects({ type: 'jwt', jwks_uri: 'http://127.0.0.1:9999/jwks', jwt: { iss: 'https://a' } }, 'jwks_uri', /WARDEN_ALLOW_INSECURE_JWKS_URIS/);
      await rejects({ type: 'jwt', jwks_uri: 'https://169.254.169.254/jwks', jwt: { iss: 'https://a' } }, 'jwks_uri', /link-local/);
      await rejects({ type: 'jwt', jwks_uri: 'not a url', jwt: { iss: 'https://a' } }, 'jwks_uri', /absolute URL/);
      await rejects(
        { type: 'opaque', introspection_endpoint: { url: 'https://user:pw@idp.example/introspect' } },
        'introspection_endpoint.url',
        /credentials/,
      );
    });

    test('an opaque introspector needs introspection_endpoint.url and takes no jwt settings', async () => {
      await rejects({ type: 'opaque' }, 'introspection_endpoint', /required/);
      await rejects({ type: 'opaque', introspection_endpoint: {} }, 'introspection_endpoint', /url/);
      await rejects(
        { type: 'opaque', introspection_endpoint: { url: 'https://a/i' }, jwt: { iss: 'https://a' } },
        'jwt',
        /belongs to type "jwt"/,
      );
      await rejects(
        { type: 'jwt', jwks_uri: 'https://a/jwks', jwt: { iss: 'https://a' }, introspection_endpoint: { url: 'https://a/i' } },
        'introspection_endpoint',
        /belongs to type "opaque"/,
      );
      await rejects(
        { type: 'opaque', introspection_endpoint: { url: 'https://a/i', authorization: 'Basic x\r\nX-Injected: 1' } },
        'introspection_endpoint.authorization',
        /single header value/,
      );
    });

    test('unknown fields and out-of-range cache_ttl are refused', async () => {
      await rejects({ type: 'jwt', jwks_uri: 'https://a/jwks', jwt: { iss: 'https://a' }, algorithms: ['none'] }, 'algorithms', /unknown property/);
      await rejects({ type: 'jwt', jwks_uri: 'https://a/jwks', jwt: { iss: 'https://a', alg: 'none' } }, 'jwt.alg', /unknown property/);
      await rejects({ type: 'jwt', jwks_uri: 'https://a/jwks', jwt: { iss: 'https://a' }, cache_ttl: -1 }, 'cache_ttl', />= 0/);
    });

    test('nothing malformed was stored', async () => {
      const read = await server.request('GET', '/TokenIntrospector/bad');
      assert.equal(read.status, 404);
    });
  });
}
