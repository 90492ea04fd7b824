// POST /auth/token: every grant, every RFC 6749 §5.2 error, and the seed's walk-throughs as written.
import assert from 'node:assert/strict';
import { createLocalJWKSet, generateKeyPair, exportJWK, jwtVerify, SignJWT } from 'jose';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { createClient, createUser, decodeJwtHeader, decodeJwtPayload, postForm, withBearer } from '../helpers/oauth.ts';
import { ROOT, basic, engines, startTestServer, type TestServer } from '../helpers/server.ts';

const CC = { id: 'cc', secret: 'cc-secret' };
const APP = { id: 'app', secret: 'app-secret' };

async function assertOAuthError(response: { status: number; body: any; headers: Headers }, status: number, error: string) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.body.error, error);
  assert.equal(typeof response.body.error_description, 'string');
  assert.equal(response.headers.get('cache-control'), 'no-store');
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
}

for (const engine of engines()) {
  describe(`POST /auth/token (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      await createClient(server, { id: CC.id, secret: CC.secret, grant_types: ['client_credentials'], auth: { client_credentials: { access_token_expiration: 600 } } });
      await createClient(server, { id: 'op', secret: 'op-secret', grant_types: ['client_credentials'], auth: { client_credentials: { token_format: 'opaque' } } });
      await createClient(server, { id: 'basic-only', secret: 'b-secret', grant_types: ['basic'] });
      await createClient(server, { id: 'scoped', secret: 's-secret', grant_types: ['client_credentials'], scope: ['system/*.read', 'openid'] });
      await createClient(server, { id: APP.id, secret: APP.secret, grant_types: ['password'], scope: ['openid', 'profile'], auth: { password: { refresh_token: true, access_token_expiration: 300 } } });
      await createUser(server, { id: 'alice', password: 'alice-password', email: 'alice@example.com', data: { given_name: 'Alice' } });
    });
    after(() => server.close());

    describe('the seed walk-throughs, verbatim', () => {
      test('Basic Auth: the YAML Client, then the API with -u id:secret (authenticated; policies are another issue)', async () => {
        const created = await server.request('POST', '/Client', {
          raw: 'id: api-consumer-basic\nsecret: verysecretstring\ngrant_types:\n  - basic\n',
          contentType: 'text/yaml',
        });
        assert.equal(created.status, 201);
        const read = await server.request('GET', '/Patient', { auth: { id: 'api-consumer-basic', secret: 'verysecretstring' } });
        assert.equal(read.status, 403, 'authenticated as api-consumer-basic; the stub authorizer lets only root through');
        const wrong = await server.request('GET', '/Patient', { auth: { id: 'api-consumer-basic', secret: 'not-it' } });
        assert.equal(wrong.status, 401);
      });

      test('Client Credentials: the YAML Client and the YAML token request with its comments and audience', async () => {
        const created = await server.request('POST', '/Client', {
          raw: [
            'id: api-consumer', 'secret: verysecretstring', 'grant_types:', '  - client_credentials', 'auth:',
            '  client_credentials:', '    access_token_expiration: 3600 # in seconds', '    access_token_format: jwt', '',
          ].join('\n'),
          contentType: 'text/yaml',
        });
        assert.equal(created.status, 201, created.text);
        const response = await server.request('POST', '/auth/token', {
          raw: ['client_id: api-consumer', 'client_secret: verysecretstring', 'grant_type: client_credentials', '# optional', 'audience: https://another-service', ''].join('\n'),
          contentType: 'text/yaml',
          auth: null,
        });
        assert.equal(response.status, 200, response.text);
        assert.equal(response.body.token_type, 'bearer');
        assert.equal(response.body.expires_in, 3600);
        assert.equal(response.headers.get('cache-control'), 'no-store');
        const claims = decodeJwtPayload(response.body.access_token);
        assert.equal(claims.client_id, 'api-consumer');
        assert.equal(claims.aud, 'https://another-service');
        assert.equal(claims.exp - claims.iat, 3600);
        assert.equal(typeof claims.sid, 'string');
        const session = await server.request('GET', `/Session/${claims.sid}`);
        assert.equal(session.status, 200);
        assert.equal(session.body.client.id, 'api-consumer');
      });

      test('Accept: text/yaml gets the token response, and its errors, in YAML as the seed shows them', async () => {
        const request = (secret: string) =>
          server.request('POST', '/auth/token', {
            raw: `client_id: api-consumer\nclient_secret: ${secret}\ngrant_type: client_credentials\n`,
            contentType: 'text/yaml',
            headers: { accept: 'text/yaml' },
            auth: null,
          });
        const response = await request('verysecretstring');
        assert.equal(response.status, 200, response.text);
        assert.match(response.headers.get('content-type') ?? '', /^text\/yaml/);
        assert.equal(response.headers.get('cache-control'), 'no-store');
        const body = parseYaml(response.text);
        assert.equal(body.token_type, 'bearer');
        assert.equal(body.expires_in, 3600);
        assert.equal(decodeJwtPayload(body.access_token).client_id, 'api-consumer');
        const failed = await request('wrong');
        assert.equal(failed.status, 401);
        assert.match(failed.headers.get('content-type') ?? '', /^text\/yaml/);
        assert.equal(parseYaml(failed.text).error, 'invalid_client');
      });

      test('the same request as a form works, and the token (audience: this server) authenticates on the API', async () => {
        const response = await postForm(server, '/auth/token', { client_id: 'api-consumer', client_secret: 'verysecretstring', grant_type: 'client_credentials' });
        assert.equal(response.status, 200, response.text);
        assert.equal(decodeJwtPayload(response.body.access_token).aud, server.url);
        const read = await withBearer(server, 'GET', '/Patient', response.body.access_token);
        assert.equal(read.status, 403, 'authenticated as api-consumer; the stub authorizer lets only root through');
      });

      test('a token for another audience is refused by this server (RFC 9068 §4)', async () => {
        const response = await postForm(server, '/auth/token', { client_id: 'api-consumer', client_secret: 'verysecretstring', grant_type: 'client_credentials', audience: 'https://another-service' });
        const read = await withBearer(server, 'GET', '/Patient', response.body.access_token);
        assert.equal(read.status, 401);
        assert.match(read.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      });

      test('token_format is accepted as well as access_token_format', async () => {
        await createClient(server, { id: 'fmt', secret: 'fmt-secret', grant_types: ['client_credentials'], auth: { client_credentials: { token_format: 'opaque' } } });
        const response = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, { id: 'fmt', secret: 'fmt-secret' });
        assert.match(response.body.access_token, /^[A-Za-z0-9_-]{43}$/);
      });
    });

    describe('client_credentials', () => {
      test('a JWT access token in the RFC 9068 shape, signed by a published key', async () => {
        const response = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, CC);
        assert.equal(response.status, 200, response.text);
        assert.equal(response.body.expires_in, 600);
        assert.equal(response.body.refresh_token, undefined, 'RFC 6749 §4.4.3: no refresh token by default');
        const header = decodeJwtHeader(response.body.access_token);
        assert.equal(header.typ, 'at+jwt');
        assert.equal(header.alg, 'RS256');
        const claims = decodeJwtPayload(response.body.access_token);
        for (const claim of ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'sid']) assert.ok(claim in claims, claim);
        assert.equal(claims.iss, server.url);
        assert.equal(claims.sub, 'cc');
        const jwks = await server.request('GET', '/.well-known/jwks.json', { auth: null });
        assert.ok(jwks.body.keys.some((key: any) => key.kid === header.kid));
        const verified = await jwtVerify(response.body.access_token, createLocalJWKSet(jwks.body), { issuer: server.url, typ: 'at+jwt' });
        assert.equal(verified.payload.sid, claims.sid);
      });

      test('the root client\'s token reads the API', async () => {
        const token = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, ROOT);
        const read = await withBearer(server, 'GET', '/Patient', token.body.access_token);
        assert.equal(read.status, 200);
        assert.equal(read.body.resourceType, 'Bundle');
      });

      test('client_secret_post authenticates as well as client_secret_basic', async () => {
        const response = await postForm(server, '/auth/token', { grant_type: 'client_credentials', client_id: CC.id, client_secret: CC.secret });
        assert.equal(response.status, 200);
      });

      test('Basic credentials form-encoded per RFC 6749 §2.3.1, secrets with colons', async () => {
        await createClient(server, { id: 'odd.client', secret: 'a:b%c+d é', grant_types: ['client_credentials'] });
        const encoded = `Basic ${Buffer.from(`odd.client:${encodeURIComponent('a:b%c+d é')}`).toString('base64')}`;
        const formEncoded = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, undefined, { authorization: encoded });
        assert.equal(formEncoded.status, 200, formEncoded.text);
        const raw = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, { id: 'odd.client', secret: 'a:b%c+d é' });
        assert.equal(raw.status, 200, raw.text);
      });

      test('an opaque token is 256 random bits, not a JWT, and authenticates on the API', async () => {
        const response = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, { id: 'op', secret: 'op-secret' });
        assert.match(response.body.access_token, /^[A-Za-z0-9_-]{43}$/);
        const read = await withBearer(server, 'GET', '/Patient', response.body.access_token);
        assert.equal(read.status, 403, 'authenticated as op');
        const stored = await server.app.ctx.db.query<{ hash: string }>(`select hash from oauth_token where kind = 'access'`);
        assert.ok(stored.length > 0);
        assert.ok(stored.every((row) => row.hash !== response.body.access_token), 'only the hash is stored');
      });

      test('concurrent requests each get their own stored Session (sessions are written in batches)', async () => {
        const responses = await Promise.all(Array.from({ length: 20 }, () => postForm(server, '/auth/token', { grant_type: 'client_credentials' }, CC)));
        assert.ok(responses.every((response) => response.status === 200));
        const sids = responses.map((response) => decodeJwtPayload(response.body.access_token).sid);
        assert.equal(new Set(sids).size, 20);
        for (const sid of sids) assert.equal((await server.request('GET', `/Session/${sid}`)).body.client.id, 'cc');
        const history = await server.request('GET', `/Session/${sids[0]}/_history`);
        assert.equal(history.body.total, 1);
      });

      test('JSON bodies are accepted', async () => {
        const response = await server.request('POST', '/auth/token', { body: { grant_type: 'client_credentials', client_id: CC.id, client_secret: CC.secret }, auth: null });
        assert.equal(response.status, 200);
      });

      test('a scope within the Client\'s list is granted; none asked gives the whole list', async () => {
        const auth = { id: 'scoped', secret: 's-secret' };
        const some = await postForm(server, '/auth/token', { grant_type: 'client_credentials', scope: 'openid' }, auth);
        assert.equal(some.body.scope, 'openid');
        assert.equal(decodeJwtPayload(some.body.access_token).scope, 'openid');
        const all = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, auth);
        assert.equal(all.body.scope, 'system/*.read openid');
      });
    });

    describe('password', () => {
      test('a user by id or by email gets an access token for them and a refresh token', async () => {
        for (const username of ['alice', 'alice@example.com']) {
          const response = await postForm(server, '/auth/token', { grant_type: 'password', username, password: 'alice-password', scope: 'openid' }, APP);
          assert.equal(response.status, 200, response.text);
          assert.equal(typeof response.body.refresh_token, 'string');
          assert.equal(response.body.expires_in, 300);
          const claims = decodeJwtPayload(response.body.access_token);
          assert.equal(claims.sub, 'alice');
          assert.equal(claims.client_id, 'app');
        }
      });

      test('the response carries userinfo as Aidbox\'s does: the User with sub, without its password', async () => {
        const response = await postForm(server, '/auth/token', { grant_type: 'password', username: 'alice@example.com', password: 'alice-password' }, APP);
        assert.equal(response.status, 200, response.text);
        const { userinfo } = response.body;
        assert.equal(userinfo.sub, 'alice');
        assert.equal(userinfo.id, 'alice');
        assert.equal(userinfo.resourceType, 'User');
        assert.equal(userinfo.email, 'alice@example.com');
        assert.deepEqual(userinfo.data, { given_name: 'Alice' });
        assert.equal(userinfo.password, undefined);
        assert.doesNotMatch(response.text, /\$s0\$/, 'no password hash anywhere in the answer');
      });

      test('a wrong password and an unknown user are the same invalid_grant', async () => {
        const wrong = await postForm(server, '/auth/token', { grant_type: 'password', username: 'alice', password: 'nope' }, APP);
        const unknown = await postForm(server, '/auth/token', { grant_type: 'password', username: 'nobody', password: 'nope' }, APP);
        await assertOAuthError(wrong, 400, 'invalid_grant');
        assert.deepEqual(unknown.body, wrong.body);
        assert.equal(unknown.status, wrong.status);
      });

      test('is off for a Client that does not list it: unauthorized_client', async () => {
        const response = await postForm(server, '/auth/token', { grant_type: 'password', username: 'alice', password: 'alice-password' }, CC);
        await assertOAuthError(response, 400, 'unauthorized_client');
      });

      test('without username: invalid_request', async () => {
        const response = await postForm(server, '/auth/token', { grant_type: 'password', password: 'x' }, APP);
        await assertOAuthError(response, 400, 'invalid_request');
      });

      test('a public client may use it only when its settings say secret_required: false', async () => {
        await createClient(server, { id: 'mobile', grant_types: ['password'], auth: { password: { secret_required: false } } });
        await createClient(server, { id: 'mobile-strict', grant_types: ['password'] });
        const open = await postForm(server, '/auth/token', { grant_type: 'password', client_id: 'mobile', username: 'alice', password: 'alice-password' });
        assert.equal(open.status, 200, open.text);
        const strict = await postForm(server, '/auth/token', { grant_type: 'password', client_id: 'mobile-strict', username: 'alice', password: 'alice-password' });
        await assertOAuthError(strict, 401, 'invalid_client');
      });
    });

    describe('refresh_token', () => {
      async function login() {
        const response = await postForm(server, '/auth/token', { grant_type: 'password', username: 'alice', password: 'alice-password', scope: 'openid profile' }, APP);
        assert.equal(response.status, 200, response.text);
        return response.body;
      }

      test('rotates: each use gives a new refresh token in the same session', async () => {
        const first = await login();
        const second = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token }, APP);
        assert.equal(second.status, 200, second.text);
        assert.notEqual(second.body.refresh_token, first.refresh_token);
        assert.equal(decodeJwtPayload(second.body.access_token).sid, decodeJwtPayload(first.access_token).sid);
        assert.equal(decodeJwtPayload(second.body.access_token).sub, 'alice');
        const third = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: second.body.refresh_token }, APP);
        assert.equal(third.status, 200);
      });

      test('revokes the whole session when an old refresh token is used again', async () => {
        const first = await login();
        const second = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token }, APP);
        assert.equal(second.status, 200);
        const reuse = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token }, APP);
        await assertOAuthError(reuse, 400, 'invalid_grant');
        const latest = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: second.body.refresh_token }, APP);
        await assertOAuthError(latest, 400, 'invalid_grant');
        const sid = decodeJwtPayload(first.access_token).sid;
        assert.equal((await server.request('GET', `/Session/${sid}`)).status, 410);
        const introspected = await postForm(server, '/auth/introspect', { token: second.body.access_token }, APP);
        assert.deepEqual(introspected.body, { active: false });
      });

      test('may narrow the scope; a wider scope is invalid_scope and does not spend the token', async () => {
        const first = await login();
        const wider = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token, scope: 'openid profile admin' }, APP);
        await assertOAuthError(wider, 400, 'invalid_scope');
        const narrower = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token, scope: 'openid' }, APP);
        assert.equal(narrower.status, 200, narrower.text);
        assert.equal(narrower.body.scope, 'openid');
        const again = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: narrower.body.refresh_token }, APP);
        assert.equal(again.body.scope, 'openid profile', 'the refresh token keeps the original scope (RFC 6749 §6)');
      });

      test('another client cannot use it, and its attempt does not spend it', async () => {
        await createClient(server, { id: 'app2', secret: 'app2-secret', grant_types: ['password'], auth: { password: { refresh_token: true } } });
        const first = await login();
        const stolen = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token }, { id: 'app2', secret: 'app2-secret' });
        await assertOAuthError(stolen, 400, 'invalid_grant');
        const own = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token }, APP);
        assert.equal(own.status, 200);
      });

      test('an unknown refresh token is invalid_grant', async () => {
        const response = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: 'x'.repeat(43) }, APP);
        await assertOAuthError(response, 400, 'invalid_grant');
      });

      test('a public client refreshes with grant_type and refresh_token alone: the token names its client (RFC 6749 §6)', async () => {
        await createClient(server, { id: 'pocket', grant_types: ['password'], auth: { password: { secret_required: false, refresh_token: true } } });
        const first = await postForm(server, '/auth/token', { grant_type: 'password', client_id: 'pocket', username: 'alice', password: 'alice-password' });
        assert.equal(first.status, 200, first.text);
        const second = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
        assert.equal(second.status, 200, second.text);
        assert.equal(decodeJwtPayload(second.body.access_token).client_id, 'pocket');
        assert.equal(decodeJwtPayload(second.body.access_token).sid, decodeJwtPayload(first.body.access_token).sid);
        // Rotation holds without client_id too: the spent token used again ends the session.
        const reuse = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
        await assertOAuthError(reuse, 400, 'invalid_grant');
        const latest = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: second.body.refresh_token });
        await assertOAuthError(latest, 400, 'invalid_grant');
      });

      test('an unknown refresh token sent without a client is invalid_grant', async () => {
        const response = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: 'y'.repeat(43) });
        await assertOAuthError(response, 400, 'invalid_grant');
      });
    });

    describe('private_key_jwt (RFC 7523)', () => {
      let privateKey: CryptoKey;
      before(async () => {
        const pair = await generateKeyPair('ES256');
        privateKey = pair.privateKey as CryptoKey;
        const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
        await createClient(server, { id: 'signed', grant_types: ['client_credentials'], jwks: { keys: [jwk] } });
      });
      const assertion = (audience = `${server.url}/auth/token`) =>
        new SignJWT({ jti: crypto.randomUUID() })
          .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
          .setIssuer('signed').setSubject('signed').setAudience(audience)
          .setIssuedAt().setExpirationTime('2m').sign(privateKey);
      const form = (jwt: string) => ({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt });

      test('a signed assertion authenticates the client', async () => {
        const response = await postForm(server, '/auth/token', form(await assertion()));
        assert.equal(response.status, 200, response.text);
        assert.equal(decodeJwtPayload(response.body.access_token).client_id, 'signed');
      });

      test('an assertion used twice is refused (jti replay)', async () => {
        const jwt = await assertion();
        assert.equal((await postForm(server, '/auth/token', form(jwt))).status, 200);
        await assertOAuthError(await postForm(server, '/auth/token', form(jwt)), 401, 'invalid_client');
      });

      test('an assertion for another audience, or signed by another key, is refused', async () => {
        const other = await assertion('https://elsewhere');
        await assertOAuthError(await postForm(server, '/auth/token', form(other)), 401, 'invalid_client');
        const stranger = (await generateKeyPair('ES256')).privateKey;
        const forged = await new SignJWT({ jti: 'x1' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' })
          .setIssuer('signed').setSubject('signed').setAudience(server.url).setExpirationTime('2m').sign(stranger);
        await assertOAuthError(await postForm(server, '/auth/token', form(forged)), 401, 'invalid_client');
      });

      test('a wrong client_assertion_type is invalid_request', async () => {
        const response = await postForm(server, '/auth/token', { ...form(await assertion()), client_assertion_type: 'urn:nope' });
        await assertOAuthError(response, 400, 'invalid_request');
      });
    });

    describe('errors (RFC 6749 §5.2)', () => {
      test('no grant_type: invalid_request', async () => {
        await assertOAuthError(await postForm(server, '/auth/token', {}, CC), 400, 'invalid_request');
      });

      test('an unknown grant_type: unsupported_grant_type', async () => {
        await assertOAuthError(await postForm(server, '/auth/token', { grant_type: 'urn:example:magic' }, CC), 400, 'unsupported_grant_type');
      });

      test('a wrong secret: invalid_client, 401, with WWW-Authenticate', async () => {
        const response = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, { id: CC.id, secret: 'wrong' });
        await assertOAuthError(response, 401, 'invalid_client');
        assert.match(response.headers.get('www-authenticate') ?? '', /^Basic /);
      });

      test('an unknown client answers exactly like a wrong secret', async () => {
        const wrong = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, { id: CC.id, secret: 'wrong' });
        const unknown = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, { id: 'no-such-client', secret: 'wrong' });
        assert.equal(unknown.status, wrong.status);
        assert.deepEqual(unknown.body, wrong.body);
        assert.equal(unknown.headers.get('www-authenticate'), wrong.headers.get('www-authenticate'));
      });

      test('no client authentication: invalid_client', async () => {
        await assertOAuthError(await postForm(server, '/auth/token', { grant_type: 'client_credentials', client_id: CC.id }), 401, 'invalid_client');
      });

      test('malformed Basic credentials: invalid_client', async () => {
        const response = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, undefined, { authorization: 'Basic !!!' });
        await assertOAuthError(response, 401, 'invalid_client');
      });

      test('two authentication methods at once: invalid_request', async () => {
        const response = await postForm(server, '/auth/token', { grant_type: 'client_credentials', client_id: CC.id, client_secret: CC.secret }, CC);
        await assertOAuthError(response, 400, 'invalid_request');
      });

      test('a grant the Client does not list: unauthorized_client', async () => {
        const response = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, { id: 'basic-only', secret: 'b-secret' });
        await assertOAuthError(response, 400, 'unauthorized_client');
      });

      test('a scope outside the Client\'s list, or malformed: invalid_scope', async () => {
        const auth = { id: 'scoped', secret: 's-secret' };
        await assertOAuthError(await postForm(server, '/auth/token', { grant_type: 'client_credentials', scope: 'system/*.write' }, auth), 400, 'invalid_scope');
        await assertOAuthError(await postForm(server, '/auth/token', { grant_type: 'client_credentials', scope: 'openid  double' }, auth), 400, 'invalid_scope');
      });

      test('a repeated parameter: invalid_request (RFC 6749 §3.2)', async () => {
        const response = await server.request('POST', '/auth/token', {
          raw: 'grant_type=client_credentials&grant_type=password', contentType: 'application/x-www-form-urlencoded', auth: CC,
        });
        await assertOAuthError(response, 400, 'invalid_request');
      });

      test('a malformed JSON or YAML body: invalid_request JSON, not an OperationOutcome', async () => {
        await assertOAuthError(await server.request('POST', '/auth/token', { raw: '{"grant_type":', contentType: 'application/json', auth: null }), 400, 'invalid_request');
        await assertOAuthError(await server.request('POST', '/auth/token', { raw: 'a: [b', contentType: 'text/yaml', auth: null }), 400, 'invalid_request');
        await assertOAuthError(await server.request('POST', '/auth/token', { raw: '["grant_type"]', contentType: 'application/json', auth: null }), 400, 'invalid_request');
      });

      test('an unsupported content type: invalid_request JSON with 415', async () => {
        await assertOAuthError(await server.request('POST', '/auth/token', { raw: 'x', contentType: 'text/plain', auth: null }), 415, 'invalid_request');
      });

      test('an invalid audience: invalid_request', async () => {
        await assertOAuthError(await postForm(server, '/auth/token', { grant_type: 'client_credentials', audience: 'not a uri' }, CC), 400, 'invalid_request');
      });
    });
  });
}
