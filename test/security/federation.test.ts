// Attacks on sign-in through another identity provider, each a raw HTTP request against a real server:
// login CSRF and state (RFC 9700 §4.7.1), mix-up (RFC 9700 §4.4), id_token validation (OIDC Core §3.1.3.7),
// userinfo substitution (OIDC Core §5.3.4), and account takeover by an unverified email.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { rsaKey } from '../external/provider.ts';
import { CookieBrowser } from '../helpers/browser.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { SCRIPTED_CLIENT, startScriptedIdp, type ScriptedIdp } from '../federation/scripted-idp.ts';

const now = () => Math.floor(Date.now() / 1000);

for (const engine of engines()) {
  describe(`sign-in through an identity provider: attacks (${engine})`, () => {
    let server: TestServer;
    let idp: ScriptedIdp;
    let other: ScriptedIdp;

    before(async () => {
      [server, idp, other] = await Promise.all([startTestServer(engine), startScriptedIdp(), startScriptedIdp()]);
      for (const [id, provider] of [['scripted', idp], ['other', other]] as const) {
        const put = await server.request('PUT', `/IdentityProvider/${id}`, { body: provider.provider(id) });
        assert.equal(put.status, 201, put.text);
      }
    });
    after(async () => {
      await Promise.all([server?.close(), idp?.close(), other?.close()]);
    });
    beforeEach(() => {
      idp.tokenRequests.length = 0;
      other.tokenRequests.length = 0;
      idp.userinfo = {};
    });

    /** Starts a sign-in in `browser`: what Warden sends to the provider. */
    async function begin(browser: CookieBrowser, id = 'scripted') {
      const start = await browser.get(`/auth/redirect/${id}`);
      assert.equal(start.status, 303, start.text);
      const authorize = new URL(start.location!);
      return {
        authorize,
        state: authorize.searchParams.get('state')!,
        nonce: authorize.searchParams.get('nonce')!,
        challenge: authorize.searchParams.get('code_challenge')!,
      };
    }

    /** The token endpoint answers an id_token with these claims (defaults: a valid one for `nonce`). */
    function answerIdToken(nonce: string, claims: Record<string, unknown> = {}, options: Parameters<ScriptedIdp['sign']>[1] = {}) {
      idp.userinfo = { sub: claims.sub ?? 'carol-at-idp' };
      idp.tokenResponse = async () => ({
        status: 200,
        body: {
          access_token: 'provider-access-token',
          token_type: 'Bearer',
          expires_in: 300,
          id_token: await idp.sign({ iss: idp.issuer, aud: SCRIPTED_CLIENT.id, sub: 'carol-at-idp', nonce, iat: now(), exp: now() + 300, ...claims }, options),
        },
      });
    }

    async function usersWithSub(sub: string) {
      const users = await server.request('GET', '/User?_count=1000');
      return (users.body.entry ?? []).map((entry: { resource: any }) => entry.resource).filter((user: any) => user.identifier?.some((id: any) => id.value === sub));
    }

    test('a provider secret is sealed on write and never returned in clear; a provider needs an issuer and https', async () => {
      const read = await server.request('GET', '/IdentityProvider/scripted');
      assert.equal(read.status, 200);
      assert.match(read.body.client.secret, /^sealed:v1:/);
      assert.ok(!read.text.includes(SCRIPTED_CLIENT.secret));
      const noIssuer = await server.request('PUT', '/IdentityProvider/bad', { body: { client: { id: 'x' } } });
      assert.equal(noIssuer.status, 422);
      assert.match(noIssuer.body.issue[0].diagnostics, /issuer/);
      const notHttp = await server.request('PUT', '/IdentityProvider/bad', { body: { issuer: 'ftp://idp.example', client: { id: 'x' } } });
      assert.equal(notHttp.status, 422);
      const takeRoles = await server.request('PUT', '/IdentityProvider/bad', { body: { issuer: 'https://idp.example', client: { id: 'x' }, toScim: { roles: ['groups'] } } });
      assert.equal(takeRoles.status, 422, 'claims may never grant roles');
    });

    test('a callback without the flow cookie of the browser that started it is refused, before any token request (RFC 9700 §4.7.1, login CSRF)', async () => {
      const victim = new CookieBrowser(server.url);
      const { state } = await begin(new CookieBrowser(server.url));
      const callback = await victim.get(`/auth/callback/scripted?code=attacker-code&state=${state}`);
      assert.equal(callback.status, 400);
      assert.match(callback.text, /not started in this browser/);
      assert.equal(idp.tokenRequests.length, 0);
    });

    test('a callback whose state differs from the one sent is refused, before any token request (RFC 9700 §4.7.1)', async () => {
      const browser = new CookieBrowser(server.url);
      await begin(browser);
      const callback = await browser.get('/auth/callback/scripted?code=c&state=forged-state');
      assert.equal(callback.status, 400);
      assert.equal(idp.tokenRequests.length, 0);
      assert.equal(browser.cookies.has('warden_session'), false);
    });

    test('an answer delivered at another provider\'s callback is refused: mix-up (RFC 9700 §4.4)', async () => {
      const browser = new CookieBrowser(server.url);
      const { state } = await begin(browser, 'scripted');
      const callback = await browser.get(`/auth/callback/other?code=c&state=${state}`);
      assert.equal(callback.status, 400);
      assert.match(callback.text, /another sign-in method/);
      assert.equal(idp.tokenRequests.length + other.tokenRequests.length, 0);
    });

    test('a valid sign-in sends the PKCE verifier and client credentials, creates the User, and cannot be replayed', async () => {
      const browser = new CookieBrowser(server.url);
      const { state, nonce, challenge, authorize } = await begin(browser);
      assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(authorize.searchParams.get('redirect_uri'), `${server.url}/auth/callback/scripted`);
      assert.ok(authorize.searchParams.get('scope')!.split(' ').includes('openid'));
      answerIdToken(nonce);
      idp.userinfo = { sub: 'carol-at-idp', name: 'Carol Idp', email: 'carol@idp.example', email_verified: true };
      const callback = await browser.get(`/auth/callback/scripted?code=good-code&state=${state}`);
      assert.equal(callback.status, 200, callback.text);
      assert.ok(browser.cookies.has('warden_session'));
      const [request] = idp.tokenRequests;
      assert.equal(request.params.get('code'), 'good-code');
      const verifier = request.params.get('code_verifier')!;
      assert.equal(createHash('sha256').update(verifier).digest('base64url'), challenge);
      // client_secret_basic form-encodes id and secret before base64 (RFC 6749 §2.3.1).
      const [id, secret] = Buffer.from(request.authorization!.replace(/^Basic /, ''), 'base64').toString().split(':').map(decodeURIComponent);
      assert.deepEqual([id, secret], [SCRIPTED_CLIENT.id, SCRIPTED_CLIENT.secret]);
      const [user] = await usersWithSub('carol-at-idp');
      assert.deepEqual(user.identifier, [{ system: idp.issuer, value: 'carol-at-idp' }]);
      assert.equal(user.email, 'carol@idp.example');
      assert.equal(user.data.name, 'Carol Idp');
      assert.equal(user.data.nonce, undefined, 'token mechanics are not kept as user data');

      const replay = await browser.get(`/auth/callback/scripted?code=good-code&state=${state}`);
      assert.equal(replay.status, 400);
      assert.equal(idp.tokenRequests.length, 1);
    });

    const refusedIdTokens: [string, (nonce: string) => Promise<void> | void][] = [
      ['an id_token from another issuer (OIDC Core §3.1.3.7 step 2)', (nonce) => answerIdToken(nonce, { iss: 'https://evil.example' })],
      ['an id_token for another audience (step 3)', (nonce) => answerIdToken(nonce, { aud: 'someone-else' })],
      ['an id_token signed by a key not in the provider\'s JWKS (step 6)', async (nonce) => answerIdToken(nonce, {}, { key: await rsaKey('scripted-1') })],
      ['an id_token that has expired (step 9)', (nonce) => answerIdToken(nonce, { iat: now() - 3600, exp: now() - 600 })],
      ['an id_token with another nonce (step 11)', () => answerIdToken('not-the-nonce')],
      ['an id_token without a nonce (step 11)', (nonce) => answerIdToken(nonce, { nonce: undefined })],
      [
        'an unsigned id_token, alg none (step 6)',
        (nonce) => {
          const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
          const claims = { iss: idp.issuer, aud: SCRIPTED_CLIENT.id, sub: 'mallory', nonce, iat: now(), exp: now() + 300 };
          idp.tokenResponse = async () => ({ status: 200, body: { access_token: 'a', token_type: 'Bearer', id_token: `${part({ alg: 'none' })}.${part(claims)}.` } });
        },
      ],
      [
        'an id_token whose claims were altered after signing (step 6)',
        async (nonce) => {
          const good = await idp.sign({ iss: idp.issuer, aud: SCRIPTED_CLIENT.id, sub: 'carol-at-idp', nonce, iat: now(), exp: now() + 300 });
          const [header, , signature] = good.split('.');
          const forged = Buffer.from(JSON.stringify({ iss: idp.issuer, aud: SCRIPTED_CLIENT.id, sub: 'admin', nonce, iat: now(), exp: now() + 300 })).toString('base64url');
          idp.tokenResponse = async () => ({ status: 200, body: { access_token: 'a', token_type: 'Bearer', id_token: `${header}.${forged}.${signature}` } });
        },
      ],
      ['a token response without an id_token (OIDC Core §3.1.3.3)', () => void (idp.tokenResponse = async () => ({ status: 200, body: { access_token: 'a', token_type: 'Bearer' } }))],
    ];
    for (const [name, script] of refusedIdTokens) {
      test(`refuses ${name}: no session, no user`, async () => {
        const browser = new CookieBrowser(server.url);
        const { state, nonce } = await begin(browser);
        await script(nonce);
        const callback = await browser.get(`/auth/callback/scripted?code=c&state=${state}`);
        assert.equal(callback.status, 400, callback.text);
        assert.match(callback.text, /could not be verified/);
        assert.equal(browser.cookies.has('warden_session'), false);
        assert.deepEqual(await usersWithSub('mallory'), []);
        assert.deepEqual(await usersWithSub('admin'), []);
      });
    }

    test('refuses userinfo about another subject than the id_token (OIDC Core §5.3.4)', async () => {
      const browser = new CookieBrowser(server.url);
      const { state, nonce } = await begin(browser);
      answerIdToken(nonce, { sub: 'dave-at-idp' });
      idp.userinfo = { sub: 'someone-else', email: 'root@idp.example', email_verified: true };
      const callback = await browser.get(`/auth/callback/scripted?code=c&state=${state}`);
      assert.equal(callback.status, 400, callback.text);
      assert.deepEqual(await usersWithSub('dave-at-idp'), []);
    });

    test('never links to an existing User by an unverified email; links a verified one only with isEmailUniqueness', async () => {
      await server.request('PUT', '/User/erin', { body: { email: 'erin@hospital.example', password: 'erin-local-password' } });
      const unverified = new CookieBrowser(server.url);
      let flow = await begin(unverified);
      answerIdToken(flow.nonce, { sub: 'mallory-1', email: 'erin@hospital.example', email_verified: false });
      assert.equal((await unverified.get(`/auth/callback/scripted?code=c&state=${flow.state}`)).status, 200);
      const [created] = await usersWithSub('mallory-1');
      assert.notEqual(created.id, 'erin');
      assert.equal(created.email, undefined, 'an unverified email is not the account\'s email');

      // Verified, but the provider does not vouch for email uniqueness: a new account, still not erin's.
      const verified = new CookieBrowser(server.url);
      flow = await begin(verified);
      answerIdToken(flow.nonce, { sub: 'erin-at-idp', email: 'erin@hospital.example', email_verified: true });
      await verified.get(`/auth/callback/scripted?code=c&state=${flow.state}`);
      const [separate] = await usersWithSub('erin-at-idp');
      assert.notEqual(separate.id, 'erin');
      assert.equal(separate.email, undefined, 'another User has that email');

      await server.request('PATCH', '/IdentityProvider/scripted', { body: { isEmailUniqueness: true } });
      const linking = new CookieBrowser(server.url);
      flow = await begin(linking);
      answerIdToken(flow.nonce, { sub: 'erin-2-at-idp', email: 'erin@hospital.example', email_verified: true });
      await linking.get(`/auth/callback/scripted?code=c&state=${flow.state}`);
      const erin = (await server.request('GET', '/User/erin')).body;
      assert.deepEqual(erin.identifier, [{ system: idp.issuer, value: 'erin-2-at-idp' }]);
      await server.request('PATCH', '/IdentityProvider/scripted', { body: { isEmailUniqueness: false } });
    });

    test('a token endpoint that fails gives a page saying the provider is unavailable, not a 500', async () => {
      const browser = new CookieBrowser(server.url);
      const { state } = await begin(browser);
      idp.tokenResponse = async () => ({ status: 500, body: 'boom' });
      const callback = await browser.get(`/auth/callback/scripted?code=c&state=${state}`);
      assert.equal(callback.status, 502, callback.text);
      assert.match(callback.text, /not available/);
    });

    test('an unknown or turned-off provider is a 404 page', async () => {
      const browser = new CookieBrowser(server.url);
      assert.equal((await browser.get('/auth/redirect/nope')).status, 404);
      assert.equal((await browser.get('/auth/redirect/%00')).status, 404);
      await server.request('PATCH', '/IdentityProvider/other', { body: { active: false } });
      assert.equal((await browser.get('/auth/redirect/other')).status, 404);
      await server.request('PATCH', '/IdentityProvider/other', { body: { active: true } });
    });
  });
}

describe('sign-in through an identity provider: endpoints Warden will not call (SSRF, OWASP ASVS 5.0 V1.3.6)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(engines()[0], { allowInsecureJwksUris: false });
  });
  after(() => server?.close());

  test('a provider whose endpoints point at a cloud metadata address is not called, even if stored around the write rule', async () => {
    // Written straight to the store, as a provider whose discovery document named such endpoints would be met.
    await server.app.ctx.resources.write(
      {
        resourceType: 'IdentityProvider',
        id: 'metadata',
        issuer: 'https://idp.example',
        authorize_endpoint: 'https://169.254.169.254/authorize',
        token_endpoint: 'https://169.254.169.254/token',
        jwks_uri: 'https://169.254.169.254/jwks',
        client: { id: 'w' },
      },
      null,
    );
    const response = await new CookieBrowser(server.url).get('/auth/redirect/metadata');
    assert.equal(response.status, 502);
    assert.equal(response.location, null);
  });
});
