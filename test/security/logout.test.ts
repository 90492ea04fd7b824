// Logout where Aidbox and OpenID Connect expect it, attacked over raw HTTP: DELETE /Session ends only the
// caller's own session; RP-Initiated Logout 1.0 sends the browser only to a post_logout_redirect_uri the Client
// registered exactly (§3.1, no open redirector), only for a verified id_token_hint (§2), and only after a
// confirmation form (logout CSRF).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CookieBrowser, hiddenFields, pkcePair } from '../helpers/browser.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { ALICE, CLIENTS, seed, signIn } from '../oauth/authorize-fixtures.ts';

const AFTER_LOGOUT = 'https://portal.example/signed-out';
const { verifier, challenge } = pkcePair();

for (const engine of engines()) {
  describe(`logout: attacks (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      await seed(server);
      await server.request('PATCH', '/Client/portal', { body: { post_logout_redirect_uris: [AFTER_LOGOUT] } });
      await server.request('PUT', '/Client/pw', { body: { secret: 'pw-secret', grant_types: ['password'] } });
    });
    after(() => server?.close());

    const passwordToken = async () => {
      const response = await fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', client_id: 'pw', client_secret: 'pw-secret', username: ALICE.email, password: ALICE.password }),
      });
      return ((await response.json()) as { access_token: string }).access_token;
    };
    const userinfo = (token: string) => fetch(`${server.url}/auth/userinfo`, { headers: { authorization: `Bearer ${token}` } });

    /** Signs Alice in to the first-party portal in `browser`; answers its tokens. */
    async function portalTokens(browser: CookieBrowser) {
      const query = new URLSearchParams({ client_id: 'portal', response_type: 'code', redirect_uri: CLIENTS.portal.auth.authorization_code.redirect_uri, scope: 'openid', state: 's', code_challenge: challenge, code_challenge_method: 'S256' });
      const back = await signIn(browser, `/auth/authorize?${query}`);
      const answer = await browser.get(back.location!);
      const code = new URL(answer.location!).searchParams.get('code')!;
      const token = await fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: 'portal', client_secret: 'portal-secret', redirect_uri: CLIENTS.portal.auth.authorization_code.redirect_uri, code_verifier: verifier }),
      });
      return (await token.json()) as { access_token: string; id_token: string };
    }

    test('DELETE /Session with a Bearer token ends that session and only it (Aidbox)', async () => {
      const [mine, other] = [await passwordToken(), await passwordToken()];
      const ended = await server.request('DELETE', '/Session', { auth: null, headers: { authorization: `Bearer ${mine}` } });
      assert.equal(ended.status, 200, ended.text);
      assert.equal(ended.body.resourceType, 'Session');
      assert.equal((await userinfo(mine)).status, 401);
      assert.equal((await userinfo(other)).status, 200);
      const again = await server.request('DELETE', '/Session', { auth: null, headers: { authorization: `Bearer ${mine}` } });
      assert.equal(again.status, 401);
      assert.equal(again.body.resourceType, 'OperationOutcome');
    });

    test('DELETE /Session without a Bearer token, or with a forged one, is a 401 and ends nothing (RFC 6750 §3.1)', async () => {
      const token = await passwordToken();
      assert.equal((await server.request('DELETE', '/Session', { auth: null })).status, 401);
      assert.equal((await server.request('DELETE', '/Session')).status, 401, 'Basic credentials have no session to end');
      const forged = `${token.slice(0, -4)}AAAA`;
      const refused = await server.request('DELETE', '/Session', { auth: null, headers: { authorization: `Bearer ${forged}` } });
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get('www-authenticate') ?? '', /invalid_token/);
      assert.equal((await userinfo(token)).status, 200);
    });

    test('discovery names the end_session_endpoint', async () => {
      const metadata = await (await fetch(`${server.url}/.well-known/openid-configuration`)).json();
      assert.equal(metadata.end_session_endpoint, `${server.url}/auth/logout`);
    });

    test('RP-initiated logout with a verified id_token_hint goes, after confirmation, to the registered URI with state', async () => {
      const browser = new CookieBrowser(server.url);
      const tokens = await portalTokens(browser);
      const query = new URLSearchParams({ id_token_hint: tokens.id_token, post_logout_redirect_uri: AFTER_LOGOUT, state: 'bye' });
      const confirm = await browser.get(`/auth/logout?${query}`);
      assert.equal(confirm.status, 200, confirm.text);
      assert.equal((await userinfo(tokens.access_token)).status, 200, 'a GET alone signs no one out');
      const done = await browser.post('/auth/logout', hiddenFields(confirm.text));
      assert.equal(done.status, 303);
      assert.equal(done.location, `${AFTER_LOGOUT}?state=bye`);
      assert.equal((await userinfo(tokens.access_token)).status, 401);
    });

    const refused: [string, (idToken: string) => Record<string, string>][] = [
      ['an unregistered post_logout_redirect_uri (§3.1: exact match)', (idToken) => ({ id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/' })],
      ['a registered URI with another path appended (§3.1: exact match)', (idToken) => ({ id_token_hint: idToken, post_logout_redirect_uri: `${AFTER_LOGOUT}/../x` })],
      ['a post_logout_redirect_uri without id_token_hint or client_id', () => ({ post_logout_redirect_uri: AFTER_LOGOUT })],
      ['an id_token_hint Warden did not sign (§2)', (idToken) => ({ id_token_hint: `${idToken.slice(0, idToken.lastIndexOf('.'))}.AAAA`, post_logout_redirect_uri: AFTER_LOGOUT })],
      ['a client_id that contradicts the id_token_hint', (idToken) => ({ id_token_hint: idToken, client_id: 'spa', post_logout_redirect_uri: AFTER_LOGOUT })],
      ['another client\'s URI named by client_id', () => ({ client_id: 'spa', post_logout_redirect_uri: AFTER_LOGOUT })],
    ];
    for (const [name, params] of refused) {
      test(`RP-initiated logout refuses ${name}, on the page and in the form`, async () => {
        const browser = new CookieBrowser(server.url);
        const tokens = await portalTokens(browser);
        const page = await browser.get(`/auth/logout?${new URLSearchParams(params(tokens.id_token))}`);
        assert.equal(page.status, 400);
        assert.equal(page.location, null);
        // The same parameters smuggled into the confirmation form are checked again.
        const confirm = await browser.get('/auth/logout');
        const post = await browser.post('/auth/logout', { ...hiddenFields(confirm.text), ...params(tokens.id_token) });
        assert.equal(post.status, 400);
        assert.equal((await userinfo(tokens.access_token)).status, 200);
      });
    }
  });
}
