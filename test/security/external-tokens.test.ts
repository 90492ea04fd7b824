// Attacks with tokens from another identity provider (issue 12, items 7 and 10, and the jwks_uri item): a
// provider Warden trusts, or anyone holding its tokens, tries to become Warden's own admin, to use tokens minted
// for another API, to pass off another kind of JWT as an access token, or to make Warden fetch from inside its
// network. Each case is a raw HTTP request against a real server, on both engines.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KeyObject, sign } from 'node:crypto';
import { isIP } from 'node:net';
import fc from 'fast-check';
import { base64url, type JWTPayload } from 'jose';
import { isForbiddenAddress, outboundUrlProblem } from '../../src/http/outbound-url.ts';
import { engines, type Response, type TestServer, startTestServer } from '../helpers/server.ts';
import { attackerKey, bearer, now, stubServer, type AttackerKey, type StubServer } from '../external/tokens.ts';

const ISSUER = 'https://idp.example';
const AUDIENCE = 'https://warden.example/fhir';
const ADMIN_PASSWORD = 'admin-password-for-tests-1';

function assertRefused(response: Response, reason: RegExp) {
  assert.equal(response.status, 401, response.text);
  assert.match(response.body.issue[0].diagnostics, reason);
}

for (const engine of engines()) {
  describe(`tokens from another identity provider (${engine})`, () => {
    let server: TestServer;
    let idp: AttackerKey;
    const claims = (extra: JWTPayload = {}): JWTPayload => ({ iss: ISSUER, aud: AUDIENCE, exp: now() + 300, iat: now(), ...extra });
    const introspector = (id: string, extra: Record<string, unknown> = {}, jwt: Record<string, unknown> = {}) =>
      server.request('PUT', `/TokenIntrospector/${id}`, {
        body: { resourceType: 'TokenIntrospector', type: 'jwt', jwt: { iss: ISSUER, aud: AUDIENCE, keys: [idp.publicJwk], ...jwt }, ...extra },
      });
    const get = async (path: string, token: string) => server.request('GET', path, bearer(token));

    before(async () => {
      // Strict outbound URLs, as in production; the provider's key is given inline, so nothing is fetched.
      server = await startTestServer(engine, { adminPassword: ADMIN_PASSWORD, allowInsecureJwksUris: false });
      idp = await attackerKey('idp-key');
      const idpWritten = await introspector('idp');
      assert.equal(idpWritten.status, 201, idpWritten.text);
      await server.request('PUT', '/Patient/pt-1', { body: { resourceType: 'Patient' } });
      await server.request('PUT', '/Client/partner', { body: { resourceType: 'Client', grant_types: ['client_credentials'] } });
      await server.request('PUT', '/AccessPolicy/partner-all', { body: { resourceType: 'AccessPolicy', engine: 'allow', link: [{ resourceType: 'Client', id: 'partner' }] } });
    });
    after(() => server.close());

    describe('identity mapping (OWASP ASVS 5.0 V10.3.2, RFC 9068 §5)', () => {
      test('client_id warden-console with sub admin does not act as the console administrator', async () => {
        const token = await idp.sign(claims({ client_id: 'warden-console', sub: server.config.adminUser }));
        const read = await get('/Client/root', token);
        assert.equal(read.status, 403, read.text);
        assert.match(read.body.issue[0].diagnostics, /TokenIntrospector\/idp/);
        assert.equal((await get('/AccessPolicy', token)).status, 403);
      });

      test('even an introspector that lists the console client and the admin User cannot speak for the first-party client', async () => {
        await introspector('idp', { speaks_for: [{ resourceType: 'Client', id: 'warden-console' }, { resourceType: 'User', id: server.config.adminUser }, { resourceType: 'Client', id: 'root' }] });
        try {
          for (const clientId of ['warden-console', 'root']) {
            const token = await idp.sign(claims({ client_id: clientId, sub: server.config.adminUser }));
            assert.equal((await get('/Client/root', token)).status, 403, clientId);
            assert.equal((await server.request('DELETE', '/Patient/pt-1', bearer(token))).status, 403, clientId);
          }
        } finally {
          await introspector('idp');
        }
        assert.equal((await server.request('GET', '/Patient/pt-1')).status, 200);
      });

      test('box_user naming a User the introspector did not create and does not list is refused', async () => {
        assertRefused(await get('/Patient/pt-1', await idp.sign(claims({ box_user: server.config.adminUser }))), /may not speak for the User/);
      });

      test('create_user does not take over an existing User by its sub', async () => {
        await introspector('idp', { create_user: true });
        await server.request('PUT', '/AccessPolicy/admin-user-patients', {
          body: { resourceType: 'AccessPolicy', engine: 'allow', link: [{ resourceType: 'User', id: server.config.adminUser }] },
        });
        try {
          const token = await idp.sign(claims({ client_id: 'someone', sub: server.config.adminUser }));
          assert.equal((await get('/Patient/pt-1', token)).status, 403, 'the token acted as User admin');
        } finally {
          await server.request('DELETE', '/AccessPolicy/admin-user-patients');
          await introspector('idp');
        }
      });

      test('a local Client is spoken for only when the introspector lists it or tagged it as its own', async () => {
        const token = await idp.sign(claims({ client_id: 'partner', sub: 'partner' }));
        assert.equal((await get('/Patient/pt-1', token)).status, 403, 'unlisted: acts as a synthetic client');
        await introspector('idp', { speaks_for: [{ resourceType: 'Client', id: 'partner' }] });
        assert.equal((await get('/Patient/pt-1', token)).status, 200, 'listed');
        await introspector('idp');
        await server.request('PUT', '/Client/partner', {
          body: { resourceType: 'Client', grant_types: ['client_credentials'], meta: { tag: [{ system: 'https://warden.dev/provisioning', code: 'TokenIntrospector/idp' }] } },
        });
        assert.equal((await get('/Patient/pt-1', token)).status, 200, 'tagged for TokenIntrospector/idp');
        await server.request('PUT', '/Client/partner', { body: { resourceType: 'Client', grant_types: ['client_credentials'] } });
      });

      test('a token accepted by one introspector never borrows what another introspector of the same issuer may speak for', async () => {
        // Same issuer and key, another audience, and the right to act as partner: a token for `idp`'s audience
        // must keep idp's (narrower) mapping.
        const wide = await introspector('wide', { speaks_for: [{ resourceType: 'Client', id: 'partner' }] }, { aud: 'urn:other-api' });
        assert.equal(wide.status, 201, wide.text);
        try {
          const forIdp = await idp.sign(claims({ client_id: 'partner' }));
          assert.equal((await get('/Patient/pt-1', forIdp)).status, 403);
          const forWide = await idp.sign(claims({ client_id: 'partner', aud: 'urn:other-api' }));
          assert.equal((await get('/Patient/pt-1', forWide)).status, 200);
        } finally {
          await server.request('DELETE', '/TokenIntrospector/wide');
        }
      });
    });

    describe('audience (RFC 9068 §4, RFC 8725 §3.9)', () => {
      test('an introspector without jwt.aud is refused when written, unless it opts out with any_audience', async () => {
        const missing = await introspector('no-aud', {}, { aud: undefined });
        assert.equal(missing.status, 422, missing.text);
        assert.deepEqual(missing.body.issue[0].expression, ['TokenIntrospector.jwt.aud']);
        const optOut = await introspector('no-aud', {}, { aud: undefined, iss: 'https://lenient.example', any_audience: true });
        assert.equal(optOut.status, 201, optOut.text);
        await server.request('DELETE', '/TokenIntrospector/no-aud');
      });

      test("an introspector claiming Warden's own issuer, in any spelling, is refused when written (RFC 8725 §3.8)", async () => {
        for (const iss of [server.url, `${server.url}/`, server.url.toUpperCase().replace('HTTP://', 'http://')]) {
          const response = await introspector('impostor', {}, { iss });
          assert.equal(response.status, 422, `${iss}: ${response.text}`);
          assert.match(response.text, /Warden's own issuer/);
        }
      });

      test('a token minted for another API is refused', async () => {
        assertRefused(await get('/Patient/pt-1', await idp.sign(claims({ aud: 'https://other-api.example' }))), /audience/);
        const { aud: _aud, ...withoutAud } = claims();
        assertRefused(await get('/Patient/pt-1', await idp.sign(withoutAud)), /"aud"|audience/);
      });

      test('an introspector stored without an audience (before the rule, or by hand) trusts no token', async () => {
        const body = { resourceType: 'TokenIntrospector', id: 'legacy', type: 'jwt', jwt: { iss: 'https://legacy.example', keys: [idp.publicJwk] } };
        await server.app.ctx.db.query(
          `insert into resource (type, id, version_id, last_updated, deleted, resource) values ('TokenIntrospector', 'legacy', 1, now(), false, $1::text::jsonb)`,
          [JSON.stringify(body)],
        );
        try {
          const token = await idp.sign(claims({ iss: 'https://legacy.example', aud: 'https://anything.example', client_id: 'partner' }));
          assertRefused(await get('/Patient/pt-1', token), /not issued by a trusted issuer/);
        } finally {
          await server.app.ctx.db.query(`delete from resource where type = 'TokenIntrospector' and id = 'legacy'`);
        }
      });
    });

    describe('JWTs that are not access tokens, and header tricks (RFC 8725 §3.1, §3.11, RFC 7515 §4.1)', () => {
      const access = () => claims({ client_id: 'x', sub: 'x' });

      test('control: a plain access token, and one typed at+jwt, are accepted', async () => {
        for (const typ of ['JWT', 'at+jwt', 'application/at+jwt']) {
          const response = await get('/Patient/pt-1', await idp.sign(access(), { typ }));
          assert.notEqual(response.status, 401, `${typ}: ${response.text}`);
        }
      });

      test('a JWT typed as another kind (logout token, DPoP proof, SET, id_token) is refused', async () => {
        for (const typ of ['logout+jwt', 'dpop+jwt', 'secevent+jwt', 'id_token+jwt']) {
          assertRefused(await get('/Patient/pt-1', await idp.sign(access(), { typ })), /not an access token/);
        }
      });

      test('an ID token (at_hash, c_hash, or Keycloak typ ID/Refresh) is refused even with the right audience', async () => {
        for (const extra of [{ at_hash: 'x', nonce: 'n' }, { c_hash: 'y' }, { typ: 'ID' }, { typ: 'Refresh' }]) {
          assertRefused(await get('/Patient/pt-1', await idp.sign({ ...access(), ...extra })), /not an access token/);
        }
      });

      test('a crit header Warden does not understand is refused (RFC 7515 §4.1.11)', async () => {
        // Signed by hand: jose itself refuses to sign with a crit it does not know.
        const encode = (value: object) => base64url.encode(JSON.stringify(value));
        const input = `${encode({ alg: 'RS256', kid: 'idp-key', crit: ['urn:x:must-understand'], 'urn:x:must-understand': true })}.${encode(access())}`;
        const signature = base64url.encode(sign('sha256', Buffer.from(input), KeyObject.from(idp.privateKey)));
        const token = `${input}.${signature}`;
        assertRefused(await get('/Patient/pt-1', token), /feature|not a well-formed/);
      });

      test('a kid crafted as a path, SQL or a URL only fails to select a key', async () => {
        for (const kid of ['../../../../dev/null', "' or '1'='1", 'https://attacker.example/key', '\u0000']) {
          const forged = await attackerKey(kid);
          assertRefused(await get('/Patient/pt-1', await forged.sign(access())), /No key|signature does not verify/);
        }
      });

      test('an embedded jwk header with the attacker key is ignored (RFC 8725 §3.10)', async () => {
        const attacker = await attackerKey('idp-key');
        const token = await attacker.sign(access(), { jwk: attacker.publicJwk });
        assertRefused(await get('/Patient/pt-1', token), /signature does not verify/);
      });

      test('alg none with an empty signature is refused (RFC 8725 §3.1)', async () => {
        const encode = (value: object) => base64url.encode(JSON.stringify(value));
        assertRefused(await get('/Patient/pt-1', `${encode({ alg: 'none', typ: 'JWT' })}.${encode(access())}.`), /algorithm|well-formed/);
      });
    });

    describe('jwks_uri and introspection endpoints (OWASP ASVS 5.0 V1.3.6, SSRF)', () => {
      const refusedUrls = [
        'http://idp.example/jwks',
        'http://127.0.0.1:9/jwks',
        'https://169.254.169.254/latest/meta-data',
        'https://2852039166/jwks',
        'https://[fe80::1]/jwks',
        'https://[::ffff:169.254.169.254]/jwks',
        'https://metadata.google.internal/computeMetadata/v1',
        'https://100.100.100.200/latest',
      ];

      test('a TokenIntrospector with a plain-http, link-local or metadata jwks_uri or endpoint is refused', async () => {
        for (const url of refusedUrls) {
          const jwt = await server.request('PUT', '/TokenIntrospector/ssrf', {
            body: { resourceType: 'TokenIntrospector', type: 'jwt', jwks_uri: url, jwt: { iss: 'https://ssrf.example', aud: AUDIENCE } },
          });
          assert.equal(jwt.status, 422, `${url}: ${jwt.text}`);
          assert.deepEqual(jwt.body.issue[0].expression, ['TokenIntrospector.jwks_uri']);
          const opaque = await server.request('PUT', '/TokenIntrospector/ssrf', {
            body: { resourceType: 'TokenIntrospector', type: 'opaque', introspection_endpoint: { url } },
          });
          assert.equal(opaque.status, 422, `${url}: ${opaque.text}`);
        }
      });

      test('a Client with such a jwks_uri is refused', async () => {
        for (const url of refusedUrls) {
          const client = await server.request('PUT', '/Client/ssrf', { body: { resourceType: 'Client', grant_types: ['client_credentials'], jwks_uri: url } });
          assert.equal(client.status, 422, `${url}: ${client.text}`);
          assert.deepEqual(client.body.issue[0].expression, ['Client.jwks_uri']);
        }
      });

      test('one stored by hand is never fetched: the token is refused and the endpoint sees no request', async () => {
        const stub = await stubServer(() => ({ status: 200, body: { keys: [idp.publicJwk] } }));
        const body = { resourceType: 'TokenIntrospector', id: 'by-hand', type: 'jwt', jwks_uri: `${stub.url}/jwks`, jwt: { iss: 'https://by-hand.example', aud: AUDIENCE } };
        await server.app.ctx.db.query(
          `insert into resource (type, id, version_id, last_updated, deleted, resource) values ('TokenIntrospector', 'by-hand', 1, now(), false, $1::text::jsonb)`,
          [JSON.stringify(body)],
        );
        const client = { resourceType: 'Client', id: 'by-hand', grant_types: ['client_credentials'], jwks_uri: `${stub.url}/jwks` };
        await server.app.ctx.db.query(
          `insert into resource (type, id, version_id, last_updated, deleted, resource) values ('Client', 'by-hand', 1, now(), false, $1::text::jsonb)`,
          [JSON.stringify(client)],
        );
        try {
          const token = await idp.sign(claims({ iss: 'https://by-hand.example' }));
          assertRefused(await get('/Patient/pt-1', token), /could not be fetched/);
          const assertion = await idp.sign({ iss: 'by-hand', sub: 'by-hand', aud: `${server.url}/auth/token`, jti: crypto.randomUUID(), exp: now() + 60, iat: now() });
          const exchange = await fetch(`${server.url}/auth/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }),
          });
          assert.equal(exchange.status, 401);
          assert.equal(stub.hits, 0, 'Warden fetched a plain-http jwks_uri');
        } finally {
          await server.app.ctx.db.query(`delete from resource where id = 'by-hand' and type in ('TokenIntrospector', 'Client')`);
          await stub.close();
        }
      });
    });
  });
}

for (const engine of engines()) {
  describe(`an opaque token's introspection answer (${engine})`, () => {
    let server: TestServer;
    let provider: StubServer;
    before(async () => {
      // The provider vouches for anything: its answers name Warden's own console client and administrator.
      provider = await stubServer(() => ({ status: 200, body: { active: true, client_id: 'warden-console', sub: 'admin', exp: now() + 300 } }));
      // The stub listens on http://127.0.0.1, which only the development setting (on in tests by default) allows.
      server = await startTestServer(engine, { adminPassword: ADMIN_PASSWORD });
      const written = await server.request('PUT', '/TokenIntrospector/vouches', {
        body: { resourceType: 'TokenIntrospector', type: 'opaque', introspection_endpoint: { url: `${provider.url}/introspect` } },
      });
      assert.equal(written.status, 201, written.text);
    });
    after(async () => {
      await server.close();
      await provider.close();
    });

    test('naming warden-console and admin does not make the token the console administrator (OWASP ASVS 5.0 V10.3.2)', async () => {
      const token = 'opaque-token-from-elsewhere';
      const read = await server.request('GET', '/Client/root', bearer(token));
      assert.equal(read.status, 403, read.text);
      assert.equal(provider.hits > 0, true, 'the token went to the introspection endpoint');
      assert.equal((await server.request('GET', '/User/admin', bearer(token))).status, 403);
    });
  });
}

describe('the outbound URL rule, for any input (property-based)', () => {
  const hosts = fc.oneof(
    fc.ipV4(),
    fc.ipV6().map((ip) => `[${ip}]`),
    fc.domain(),
    fc.constantFrom('metadata.google.internal', 'localhost', '[::ffff:169.254.169.254]', '2852039166', '0x7f.1', '169.254.169.254.'),
  );
  const urls = fc.oneof(
    fc.tuple(fc.constantFrom('http', 'https', 'ftp', 'file', 'javascript'), hosts, fc.string({ maxLength: 20 })).map(([scheme, host, path]) => `${scheme}://${host}/${path}`),
    fc.string({ maxLength: 80 }),
  );

  test('never throws, and never lets a link-local address through without the development setting', () => {
    fc.assert(
      fc.property(urls, (raw) => {
        const problem = outboundUrlProblem(raw, false);
        outboundUrlProblem(raw, true);
        if (problem !== null) return;
        const host = new URL(raw).hostname.replace(/^\[|\]$/g, '');
        assert.equal(new URL(raw).protocol, 'https:');
        assert.equal(isIP(host) !== 0 && isForbiddenAddress(host), false, raw);
      }),
      { numRuns: 2000 },
    );
  });

  test('every address of 169.254.0.0/16, in any spelling the URL parser accepts, is refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.constantFrom('dotted', 'decimal', 'mapped'), (c, d, form) => {
        const host = form === 'dotted' ? `169.254.${c}.${d}` : form === 'decimal' ? String(((169 << 24) >>> 0) + (254 << 16) + (c << 8) + d) : `[::ffff:169.254.${c}.${d}]`;
        assert.notEqual(outboundUrlProblem(`https://${host}/jwks`, false), null, host);
      }),
    );
  });
});

describe('WARDEN_ALLOW_INSECURE_JWKS_URIS', () => {
  test('is off unless set, and lets loopback http through when on (for development)', async () => {
    const { loadConfig } = await import('../../src/config.ts');
    assert.equal(loadConfig({}).allowInsecureJwksUris, false);
    assert.equal(loadConfig({ WARDEN_ALLOW_INSECURE_JWKS_URIS: 'true' }).allowInsecureJwksUris, true);
    assert.throws(() => loadConfig({ WARDEN_ALLOW_INSECURE_JWKS_URIS: 'yes please' }), /true or false/);
  });
});
