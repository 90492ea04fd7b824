// JWT access tokens from a real, independent identity provider (oidc-provider), used on Warden's API under
// AccessPolicies; and every way a forged or unfit token must be refused.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, ROOT, startTestServer, type Response, type TestServer } from '../helpers/server.ts';
import { JWT_RESOURCE, startProvider, type TestProvider } from './provider.ts';
import { attackerKey, bearer, hmac, hmacWithPublicKey, now, stubServer, unsecured, type StubServer } from './tokens.ts';

const HS_ISSUER = 'https://hs.example';
const HS_AUDIENCE = 'urn:warden:hs';
const HS_SECRET = 'shared-hmac-secret-of-at-least-32-bytes';
/** The local Client and Users the provider's tokens may act as (test/security/external-tokens.test.ts: the others). */
const IDP_SPEAKS_FOR = [
  { resourceType: 'Client', id: 'ext-app' },
  { resourceType: 'User', id: 'alice' },
  { resourceType: 'User', id: 'dora' },
];
const externalTokens = { timeoutMs: 5000, clockSkewSeconds: 30, jwksRefetchIntervalSeconds: 30 };

function assertRefused(response: Response, reason: RegExp) {
  assert.equal(response.status, 401, response.text);
  assert.equal(response.body.resourceType, 'OperationOutcome');
  assert.match(response.body.issue[0].diagnostics, reason);
  assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer realm="warden", error="invalid_token"/);
}

for (const engine of engines()) {
  describe(`external JWTs from oidc-provider (${engine})`, () => {
    let provider: TestProvider;
    let server: TestServer;
    const claims = () => ({ iss: provider.issuer, aud: JWT_RESOURCE, client_id: 'ext-app', sub: 'ext-app', exp: now() + 300, iat: now() });

    before(async () => {
      provider = await startProvider();
      server = await startTestServer(engine, { externalTokens });
      const writes = [
        server.request('PUT', '/TokenIntrospector/idp', {
          body: { resourceType: 'TokenIntrospector', type: 'jwt', jwks_uri: provider.jwksUri, jwt: { iss: provider.issuer, aud: JWT_RESOURCE }, speaks_for: IDP_SPEAKS_FOR },
        }),
        server.request('PUT', '/TokenIntrospector/hs', {
          body: { resourceType: 'TokenIntrospector', type: 'jwt', jwt: { iss: HS_ISSUER, aud: HS_AUDIENCE, secret: HS_SECRET } },
        }),
        // Reads by the provider's app, recognised by the verified claims the policy sees as `jwt`.
        server.request('PUT', '/AccessPolicy/idp-app-reads', {
          body: { resourceType: 'AccessPolicy', engine: 'matcho', matcho: { 'request-method': 'get', uri: '#^/Patient', jwt: { iss: provider.issuer, client_id: 'ext-app' } } },
        }),
        server.request('PUT', '/AccessPolicy/hs-reads', {
          body: { resourceType: 'AccessPolicy', engine: 'matcho', matcho: { 'request-method': 'get', uri: '#^/Patient', jwt: { iss: HS_ISSUER } } },
        }),
        server.request('PUT', '/Patient/pt-1', { body: { resourceType: 'Patient', active: true } }),
      ];
      for (const response of await Promise.all(writes)) assert.ok(response.status < 300, response.text);
    });
    after(async () => {
      await server.close();
      await provider.close();
    });

    describe('a token issued by the provider', () => {
      test('reads the API under an AccessPolicy that matches its claims', async () => {
        const token = await provider.token(JWT_RESOURCE);
        const read = await server.request('GET', '/Patient/pt-1', bearer(token));
        assert.equal(read.status, 200, read.text);
        assert.equal(read.body.id, 'pt-1');
      });

      test('cannot do what no policy allows: 403, not 401', async () => {
        const token = await provider.token(JWT_RESOURCE);
        const write = await server.request('POST', '/Patient', { ...bearer(token), body: { resourceType: 'Patient' } });
        assert.equal(write.status, 403, write.text);
        const other = await server.request('GET', '/Observation', bearer(token));
        assert.equal(other.status, 403, other.text);
      });

      test('acts as the Client named by client_id once Warden has that Client, so policies linked to it apply', async () => {
        await server.request('PUT', '/AccessPolicy/ext-app-observations', {
          body: { resourceType: 'AccessPolicy', engine: 'allow', link: [{ resourceType: 'Client', id: 'ext-app' }] },
        });
        const token = await provider.token(JWT_RESOURCE);
        const before = await server.request('GET', '/Observation', bearer(token));
        assert.equal(before.status, 403, 'no Client ext-app yet: the token acts as a synthetic client');
        assert.match(before.body.issue[0].diagnostics, /Client "TokenIntrospector\/idp"/);
        const client = await server.request('PUT', '/Client/ext-app', { body: { resourceType: 'Client', grant_types: ['client_credentials'] } });
        assert.equal(client.status, 201, client.text);
        const after = await server.request('GET', '/Observation', bearer(token));
        assert.equal(after.status, 200, after.text);
        await server.request('DELETE', '/Client/ext-app');
        await server.request('DELETE', '/AccessPolicy/ext-app-observations');
      });

      test('acts for the User named by its box_user claim; policies linked to that User apply', async () => {
        await server.request('PUT', '/User/alice', { body: { resourceType: 'User', email: 'alice@example.com' } });
        await server.request('PUT', '/AccessPolicy/alice-practitioners', {
          body: { resourceType: 'AccessPolicy', engine: 'matcho', matcho: { uri: '#^/Practitioner' }, link: [{ resourceType: 'User', id: 'alice' }] },
        });
        provider.extraClaims = { box_user: 'alice' };
        try {
          const token = await provider.token(JWT_RESOURCE);
          const read = await server.request('GET', '/Practitioner', bearer(token));
          assert.equal(read.status, 200, read.text);
          provider.extraClaims = { box_user: 'bob' };
          const withoutAlice = await server.request('GET', '/Practitioner', bearer(await provider.token(JWT_RESOURCE)));
          assertRefused(withoutAlice, /User named by the token's box_user claim does not exist/);
        } finally {
          provider.extraClaims = {};
        }
      });

      test('a deactivated User cannot use its tokens', async () => {
        await server.request('PUT', '/User/dora', { body: { resourceType: 'User', active: false } });
        provider.extraClaims = { box_user: 'dora' };
        try {
          assertRefused(await server.request('GET', '/Patient/pt-1', bearer(await provider.token(JWT_RESOURCE))), /User "dora" is deactivated/);
        } finally {
          provider.extraClaims = {};
        }
      });

      test('creates the User just in time when the introspector has create_user', async () => {
        const introspector = { resourceType: 'TokenIntrospector', type: 'jwt', jwks_uri: provider.jwksUri, jwt: { iss: provider.issuer, aud: JWT_RESOURCE }, speaks_for: IDP_SPEAKS_FOR };
        await server.request('PUT', '/TokenIntrospector/idp', { body: { ...introspector, create_user: true } });
        provider.extraClaims = { box_user: 'carol', email: 'carol@example.com' };
        try {
          const read = await server.request('GET', '/Patient/pt-1', bearer(await provider.token(JWT_RESOURCE)));
          assert.equal(read.status, 200, read.text);
          const user = await server.request('GET', '/User/carol');
          assert.equal(user.status, 200);
          assert.equal(user.body.email, 'carol@example.com');
          assert.deepEqual(user.body.identifier, [{ system: provider.issuer, value: 'ext-app' }]);
        } finally {
          provider.extraClaims = {};
          await server.request('PUT', '/TokenIntrospector/idp', { body: introspector });
        }
        provider.extraClaims = { box_user: 'dave' };
        try {
          const refused = await server.request('GET', '/Patient/pt-1', bearer(await provider.token(JWT_RESOURCE)));
          assertRefused(refused, /box_user claim does not exist/);
          assert.equal((await server.request('GET', '/User/dave')).status, 404, 'without create_user no User is made');
        } finally {
          provider.extraClaims = {};
        }
      });

      test('naming the root client in client_id does not make the token root', async () => {
        const token = await provider.sign({ ...claims(), client_id: ROOT.id, sub: ROOT.id });
        const remove = await server.request('DELETE', '/Patient/pt-1', bearer(token));
        assert.equal(remove.status, 403, remove.text);
        assert.equal((await server.request('GET', '/Patient/pt-1')).status, 200);
      });

      test('stops working at once when its TokenIntrospector is deleted, and again when it is restored', async () => {
        const token = await provider.token(JWT_RESOURCE);
        const saved = (await server.request('GET', '/TokenIntrospector/idp')).body;
        assert.equal((await server.request('DELETE', '/TokenIntrospector/idp')).status, 200);
        assertRefused(await server.request('GET', '/Patient/pt-1', bearer(token)), /not issued by a trusted issuer/);
        const { meta: _meta, ...body } = saved;
        assert.equal((await server.request('PUT', '/TokenIntrospector/idp', { body })).status, 201);
        assert.equal((await server.request('GET', '/Patient/pt-1', bearer(token))).status, 200);
      });
    });

    describe('an HS256 introspector', () => {
      test('accepts a token signed with its secret', async () => {
        const token = await hmac(HS_SECRET, { iss: HS_ISSUER, aud: HS_AUDIENCE, sub: 'someone', exp: now() + 60 });
        assert.equal((await server.request('GET', '/Patient/pt-1', bearer(token))).status, 200);
      });

      test('refuses a token signed with another secret', async () => {
        const token = await hmac('another-secret-that-is-also-32-bytes-long', { iss: HS_ISSUER, aud: HS_AUDIENCE, exp: now() + 60 });
        assertRefused(await server.request('GET', '/Patient/pt-1', bearer(token)), /signature does not verify/);
      });

      test('refuses a public-key signature, whatever key made it', async () => {
        const attacker = await attackerKey();
        const token = await attacker.sign({ iss: HS_ISSUER, aud: HS_AUDIENCE, exp: now() + 60 });
        assertRefused(await server.request('GET', '/Patient/pt-1', bearer(token)), /algorithm is not accepted/);
      });
    });

    describe('attacks on a JWKS introspector', () => {
      const refused = async (token: string, reason: RegExp) => assertRefused(await server.request('GET', '/Patient/pt-1', bearer(token)), reason);

      test('control: a token signed by the provider key with these claims is accepted', async () => {
        assert.equal((await server.request('GET', '/Patient/pt-1', bearer(await provider.sign(claims())))).status, 200);
      });

      test('alg "none" is refused', async () => {
        await refused(unsecured(claims()), /algorithm is not accepted|not a well-formed JWT/);
        await refused(unsecured(claims(), { alg: 'NONE' }), /algorithm is not accepted|not a well-formed JWT/);
      });

      test('HS256 signed with the provider public key as the secret (algorithm confusion) is refused', async () => {
        const [key] = provider.keys;
        await refused(await hmacWithPublicKey(key.publicJwk, claims(), key.kid), /algorithm is not accepted/);
        await refused(await hmac(JSON.stringify(key.publicJwk), claims()), /algorithm is not accepted/);
      });

      test('a foreign key under the provider kid is refused', async () => {
        const attacker = await attackerKey(provider.keys[0].kid);
        await refused(await attacker.sign(claims()), /signature does not verify/);
      });

      test('jku, x5u and jwk headers are ignored: the attacker key they point to is never fetched nor used', async () => {
        const attacker = await attackerKey('attacker-kid');
        const attackerJwks = await stubServer(() => ({ status: 200, body: { keys: [attacker.publicJwk] } }));
        try {
          await refused(await attacker.sign(claims(), { jku: `${attackerJwks.url}/jwks` }), /No key .* matches|signature does not verify/);
          await refused(await attacker.sign(claims(), { x5u: `${attackerJwks.url}/cert.pem` }), /No key .* matches|signature does not verify/);
          await refused(await attacker.sign(claims(), { jwk: attacker.publicJwk }), /No key .* matches|signature does not verify/);
          assert.equal(attackerJwks.hits, 0);
        } finally {
          await attackerJwks.close();
        }
      });

      test('an unknown kid refetches the JWKS once, then not again within the refetch interval', async () => {
        const attacker = await attackerKey('unknown-kid-1');
        const before = provider.counts.jwks;
        await refused(await attacker.sign(claims()), /No key .* matches/);
        assert.ok(provider.counts.jwks <= before + 1, 'at most one refetch');
        const afterFirst = provider.counts.jwks;
        for (const kid of ['unknown-kid-2', 'unknown-kid-3', 'unknown-kid-4']) {
          await refused(await (await attackerKey(kid)).sign(claims()), /No key .* matches/);
        }
        assert.equal(provider.counts.jwks, afterFirst, 'no refetch within the interval');
      });

      test('an expired token is refused; within the allowed clock skew it is not', async () => {
        await refused(await provider.sign({ ...claims(), exp: now() - 120, iat: now() - 600 }), /expired/);
        assert.equal((await server.request('GET', '/Patient/pt-1', bearer(await provider.sign({ ...claims(), exp: now() - 5 })))).status, 200);
      });

      test('a token without exp is refused', async () => {
        const { exp: _exp, ...withoutExp } = claims();
        await refused(await provider.sign(withoutExp), /lacks the required "exp" claim/);
      });

      test('nbf or iat in the future (beyond the skew) is refused', async () => {
        await refused(await provider.sign({ ...claims(), nbf: now() + 300 }), /not valid yet/);
        await refused(await provider.sign({ ...claims(), iat: now() + 300 }), /issued in the future/);
      });

      test('the issuer must match exactly', async () => {
        await refused(await provider.sign({ ...claims(), iss: `${provider.issuer}/` }), /not issued by a trusted issuer/);
        await refused(await provider.sign({ ...claims(), iss: provider.issuer.toUpperCase() }), /not issued by a trusted issuer/);
      });

      test('the audience must be the configured one', async () => {
        await refused(await provider.sign({ ...claims(), aud: 'urn:someone-else' }), /audience/);
        const { aud: _aud, ...withoutAud } = claims();
        await refused(await provider.sign(withoutAud), /audience|"aud"/);
      });

      test('a token whose payload was altered after signing is refused', async () => {
        const [header, , signature] = (await provider.sign(claims())).split('.');
        const altered = Buffer.from(JSON.stringify({ ...claims(), client_id: 'someone-else' })).toString('base64url');
        await refused(`${header}.${altered}.${signature}`, /signature does not verify/);
      });
    });

    describe('a JWKS that is down or slow', () => {
      let slow: StubServer;
      before(async () => {
        slow = await stubServer('hang');
        const writes = [
          server.request('PUT', '/TokenIntrospector/down', {
            body: { resourceType: 'TokenIntrospector', type: 'jwt', jwks_uri: `http://127.0.0.1:9/jwks`, jwt: { iss: 'https://down.example', aud: JWT_RESOURCE } },
          }),
          server.request('PUT', '/TokenIntrospector/slow', {
            body: { resourceType: 'TokenIntrospector', type: 'jwt', jwks_uri: `${slow.url}/jwks`, jwt: { iss: 'https://slow.example', aud: JWT_RESOURCE } },
          }),
        ];
        for (const response of await Promise.all(writes)) assert.equal(response.status, 201, response.text);
      });
      after(() => slow.close());

      test('a JWKS that is down gives 401', async () => {
        const attacker = await attackerKey();
        const token = await attacker.sign({ iss: 'https://down.example', aud: JWT_RESOURCE, exp: now() + 60 });
        assertRefused(await server.request('GET', '/Patient/pt-1', bearer(token)), /keys of TokenIntrospector "down" could not be fetched/);
      });

      test('a JWKS that never answers gives 401 after the timeout, and other requests go on meanwhile', async () => {
        const attacker = await attackerKey();
        const token = await attacker.sign({ iss: 'https://slow.example', aud: JWT_RESOURCE, exp: now() + 60 });
        const arrived = slow.nextRequest();
        const stalled = server.request('GET', '/Patient/pt-1', bearer(token));
        await arrived;
        // While Warden waits for the slow JWKS, an external token of another provider and a Basic request pass.
        const [external, basic] = await Promise.all([
          server.request('GET', '/Patient/pt-1', bearer(await provider.token(JWT_RESOURCE))),
          server.request('GET', '/Patient/pt-1'),
        ]);
        assert.equal(external.status, 200, external.text);
        assert.equal(basic.status, 200, basic.text);
        assert.equal(slow.open, 1, 'the slow JWKS request was still waiting when the others were answered');
        assertRefused(await stalled, /keys of TokenIntrospector "slow" could not be fetched/);
      });
    });
  });

  describe(`key rotation at the provider (${engine})`, () => {
    let provider: TestProvider;
    let server: TestServer;
    before(async () => {
      provider = await startProvider();
      server = await startTestServer(engine, { externalTokens });
      const writes = [
        server.request('PUT', '/TokenIntrospector/idp', {
          body: { resourceType: 'TokenIntrospector', type: 'jwt', jwks_uri: provider.jwksUri, jwt: { iss: provider.issuer, aud: JWT_RESOURCE } },
        }),
        server.request('PUT', '/AccessPolicy/idp-reads', {
          body: { resourceType: 'AccessPolicy', engine: 'matcho', matcho: { 'request-method': 'get', jwt: { iss: provider.issuer } } },
        }),
      ];
      for (const response of await Promise.all(writes)) assert.ok(response.status < 300, response.text);
    });
    after(async () => {
      await server.close();
      await provider.close();
    });

    test('tokens signed by a new key are accepted at once, and those of the old key still are', async () => {
      const old = await provider.token(JWT_RESOURCE);
      assert.equal((await server.request('GET', '/Patient', bearer(old))).status, 200);
      const fetches = provider.counts.jwks;
      await provider.rotate();
      const rotated = await provider.token(JWT_RESOURCE);
      assert.equal((await server.request('GET', '/Patient', bearer(rotated))).status, 200);
      assert.equal(provider.counts.jwks, fetches + 1, 'the unknown kid made Warden refetch the JWKS once');
      assert.equal((await server.request('GET', '/Patient', bearer(old))).status, 200);
      assert.equal((await server.request('GET', '/Patient', bearer(rotated))).status, 200);
      assert.equal(provider.counts.jwks, fetches + 1, 'known keys need no fetch');
    });
  });
}
