// The code exchange at /auth/token, the implicit flow, ID tokens, userinfo and logout, over real HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { CookieBrowser, hiddenFields, pkcePair } from '../helpers/browser.ts';
import { basic, engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { atHash } from '../../src/tokens/id-token.ts';
import { ALICE, seed, signIn } from './authorize-fixtures.ts';

const { verifier, challenge } = pkcePair();
const q = (params: Record<string, string>) => `/auth/authorize?${new URLSearchParams(params)}`;
const SPA_CALLBACK = 'https://spa.example/callback';

for (const engine of engines()) {
  describe(`authorization code exchange, implicit flow and OpenID Connect (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      await seed(server);
    });
    after(() => server.close());

    async function tokenRequest(form: Record<string, string>, headers: Record<string, string> = {}) {
      const response = await fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(form).toString(),
      });
      return { status: response.status, body: (await response.json()) as Record<string, any>, headers: response.headers };
    }

    /** Signs in (and consents) for the SPA and returns the code from the redirect. */
    async function spaCode(extra: Record<string, string> = {}, browser = new CookieBrowser(server.url)) {
      const path = q({ client_id: 'spa', response_type: 'code', state: 's1', scope: 'openid profile email', redirect_uri: SPA_CALLBACK, code_challenge: challenge, code_challenge_method: 'S256', nonce: 'n-0S6_WzA2Mj', ...extra });
      let response = browser.cookies.has('warden_session') ? await browser.get(path) : await signIn(browser, path);
      if (response.location?.startsWith('/auth/authorize')) response = await browser.get(response.location);
      if (response.status === 200) response = await browser.post('/auth/authorize', { ...hiddenFields(response.text), decision: 'allow' });
      assert.equal(response.status, 303, response.text);
      const code = new URL(response.location!).searchParams.get('code');
      assert.ok(code, response.location!);
      return { code, browser };
    }

    const exchange = (code: string, extra: Record<string, string> = {}) =>
      tokenRequest({ grant_type: 'authorization_code', code, client_id: 'spa', redirect_uri: SPA_CALLBACK, code_verifier: verifier, ...extra });

    const userinfo = (token: string) => fetch(`${server.url}/auth/userinfo`, { headers: { authorization: `Bearer ${token}` } });

    test('a public client exchanges its code with the PKCE verifier for an access token and an ID token', async () => {
      const { code } = await spaCode();
      const response = await exchange(code);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(response.headers.get('cache-control'), 'no-store');
      assert.equal(response.body.token_type.toLowerCase(), 'bearer');
      assert.equal(response.body.scope, 'openid profile email');
      const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
      const { payload, protectedHeader } = await jwtVerify(response.body.id_token, jwks, { issuer: server.url, audience: 'spa' });
      assert.equal(protectedHeader.alg, 'RS256');
      assert.equal(payload.sub, ALICE.id);
      assert.equal(payload.nonce, 'n-0S6_WzA2Mj');
      assert.equal(payload.at_hash, atHash(response.body.access_token));
      assert.equal(typeof payload.auth_time, 'number');
      assert.ok(Math.abs((payload.auth_time as number) - Date.now() / 1000) < 600);
      assert.equal(typeof payload.sid, 'string');
    });

    test('userinfo gives the claims of User.data for the token', async () => {
      const { code } = await spaCode();
      const { body } = await exchange(code);
      const response = await userinfo(body.access_token);
      assert.equal(response.status, 200);
      const claims = (await response.json()) as Record<string, unknown>;
      assert.equal(claims.sub, ALICE.id);
      assert.equal(claims.given_name, 'Alice');
      assert.equal(claims.family_name, 'Liddell');
      assert.equal(claims.email, ALICE.email);
    });

    test('a code is single use: the replay fails and revokes the tokens the first exchange issued', async () => {
      const { code } = await spaCode();
      const first = await exchange(code);
      assert.equal(first.status, 200);
      assert.equal((await userinfo(first.body.access_token)).status, 200);
      const replay = await exchange(code);
      assert.equal(replay.status, 400);
      assert.equal(replay.body.error, 'invalid_grant');
      assert.equal((await userinfo(first.body.access_token)).status, 401, 'the first access token is revoked');
    });

    test('PKCE: a wrong verifier is invalid_grant, and spends the code: the right verifier comes too late', async () => {
      const { code } = await spaCode();
      const wrong = await exchange(code, { code_verifier: 'x'.repeat(43) });
      assert.equal(wrong.body.error, 'invalid_grant');
      const late = await exchange(code);
      assert.equal(late.status, 400);
      assert.equal(late.body.error, 'invalid_grant');
    });

    test('PKCE: a code issued with a challenge cannot be exchanged without the verifier', async () => {
      const { code } = await spaCode();
      const { code_verifier: _, ...rest } = { grant_type: 'authorization_code', code, client_id: 'spa', redirect_uri: SPA_CALLBACK, code_verifier: '' };
      const response = await tokenRequest(rest);
      assert.equal(response.body.error, 'invalid_grant');
      assert.match(response.body.error_description, /code_verifier is required/);
    });

    test('PKCE downgrade: a verifier for a code issued without a challenge is refused', async () => {
      const browser = new CookieBrowser(server.url);
      const path = q({ client_id: 'web-app', response_type: 'code', state: 'w', redirect_uri: 'https://example.com' });
      let response = await signIn(browser, path);
      response = await browser.get(response.location!);
      response = await browser.post('/auth/authorize', { ...hiddenFields(response.text), decision: 'allow' });
      const code = new URL(response.location!).searchParams.get('code')!;
      const auth = { authorization: basic('web-app', 'client-secret') };
      const downgraded = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: 'https://example.com', code_verifier: verifier }, auth);
      assert.equal(downgraded.body.error, 'invalid_grant');
      assert.match(downgraded.body.error_description, /no code_challenge/);
    });

    test('the seed web-app (confidential) must authenticate to exchange its code', async () => {
      const browser = new CookieBrowser(server.url);
      const path = q({ client_id: 'web-app', response_type: 'code', state: 'w', redirect_uri: 'http://localhost:4200' });
      let response = await signIn(browser, path);
      response = await browser.get(response.location!);
      if (response.status === 200) response = await browser.post('/auth/authorize', { ...hiddenFields(response.text), decision: 'allow' });
      const code = new URL(response.location!).searchParams.get('code')!;
      const unauthenticated = await tokenRequest({ grant_type: 'authorization_code', code, client_id: 'web-app', redirect_uri: 'http://localhost:4200' });
      assert.equal(unauthenticated.status, 401);
      assert.equal(unauthenticated.body.error, 'invalid_client');
      const wrongSecret = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: 'http://localhost:4200' }, { authorization: basic('web-app', 'nope') });
      assert.equal(wrongSecret.status, 401);
      const ok = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: 'http://localhost:4200' }, { authorization: basic('web-app', 'client-secret') });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.ok(ok.body.access_token);
      assert.equal(ok.body.id_token, undefined, 'no openid scope, no ID token');
      // As Aidbox answers: the signed-in User, with sub, without the password hash.
      assert.equal(ok.body.userinfo.sub, ok.body.userinfo.id);
      assert.equal(ok.body.userinfo.resourceType, 'User');
      assert.equal(ok.body.userinfo.password, undefined);
    });

    test('the code is bound to the redirect URI it was sent to, and a wrong one spends it', async () => {
      const { code } = await spaCode();
      const other = await exchange(code, { redirect_uri: 'https://spa.example/other' });
      assert.equal(other.body.error, 'invalid_grant');
      assert.equal((await exchange(code)).body.error, 'invalid_grant', 'the right redirect URI comes too late');
    });

    test('an exchange without the redirect URI the request named is invalid_request, and spends the code', async () => {
      const { code } = await spaCode();
      const { redirect_uri: _, ...rest } = { grant_type: 'authorization_code', code, client_id: 'spa', redirect_uri: '', code_verifier: verifier };
      const missing = await tokenRequest(rest);
      assert.equal(missing.body.error, 'invalid_request');
      assert.equal((await exchange(code)).body.error, 'invalid_grant');
    });

    test('the code is bound to the client it was issued to; another client\'s attempt is refused and does not spend it', async () => {
      const { code } = await spaCode();
      const stolen = await tokenRequest({ grant_type: 'authorization_code', code, client_id: 'native', redirect_uri: SPA_CALLBACK, code_verifier: verifier });
      assert.equal(stolen.body.error, 'invalid_grant');
      const portal = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: SPA_CALLBACK, code_verifier: verifier }, { authorization: basic('portal', 'portal-secret') });
      assert.equal(portal.body.error, 'invalid_grant');
      assert.equal((await exchange(code)).status, 200, 'the rightful client still exchanges it (RFC 6749 §4.1.3)');
    });

    test('an unknown code is invalid_grant', async () => {
      const response = await exchange('A'.repeat(43));
      assert.equal(response.status, 400);
      assert.equal(response.body.error, 'invalid_grant');
    });

    test('a first-party client with refresh tokens enabled gets a refresh token that works', async () => {
      const browser = new CookieBrowser(server.url);
      const path = q({ client_id: 'portal', response_type: 'code', state: 'p', scope: 'openid', redirect_uri: 'https://portal.example/cb' });
      let response = await signIn(browser, path);
      response = await browser.get(response.location!);
      const code = new URL(response.location!).searchParams.get('code')!;
      const auth = { authorization: basic('portal', 'portal-secret') };
      const tokens = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: 'https://portal.example/cb' }, auth);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.ok(tokens.body.refresh_token);
      const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token }, auth);
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    });

    test('implicit flow: an access token in the fragment, with state and iss, and no refresh token', async () => {
      const browser = new CookieBrowser(server.url);
      const path = q({ client_id: 'spa', response_type: 'token', state: 'imp', scope: 'profile', redirect_uri: 'https://spa.example/implicit' });
      let response = await signIn(browser, path);
      response = await browser.get(response.location!);
      if (response.status === 200) response = await browser.post('/auth/authorize', { ...hiddenFields(response.text), decision: 'allow' });
      const location = new URL(response.location!);
      assert.equal(location.search, '', 'nothing in the query');
      const fragment = new URLSearchParams(location.hash.slice(1));
      assert.equal(fragment.get('state'), 'imp');
      assert.equal(fragment.get('iss'), server.url);
      assert.equal(fragment.get('refresh_token'), null);
      assert.equal(fragment.get('token_type')!.toLowerCase(), 'bearer');
      assert.ok(Number(fragment.get('expires_in')) > 0);
      assert.equal((await userinfo(fragment.get('access_token')!)).status, 200);
    });

    test('logout ends the tokens issued in the browser session', async () => {
      const { code, browser } = await spaCode();
      const tokens = await exchange(code);
      assert.equal((await userinfo(tokens.body.access_token)).status, 200);
      const confirm = await browser.get('/auth/logout');
      await browser.post('/auth/logout', hiddenFields(confirm.text));
      assert.equal((await userinfo(tokens.body.access_token)).status, 401);
    });

    test('discovery describes the authorization endpoint, PKCE S256, iss in responses and ID tokens', async () => {
      const metadata = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<string, any>;
      assert.equal(metadata.authorization_endpoint, `${server.url}/auth/authorize`);
      assert.deepEqual(metadata.response_types_supported, ['code', 'token']);
      assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
      assert.equal(metadata.authorization_response_iss_parameter_supported, true);
      assert.deepEqual(metadata.id_token_signing_alg_values_supported, ['RS256']);
      assert.ok(metadata.grant_types_supported.includes('authorization_code'));
      assert.ok(metadata.grant_types_supported.includes('implicit'));
      assert.ok(metadata.scopes_supported.includes('openid'));
    });
  });
}
