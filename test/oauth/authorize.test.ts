// /auth/authorize request validation: which requests are refused on Warden's page, which are answered at the
// client's redirect URI, and with which error.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CookieBrowser, pkcePair } from '../helpers/browser.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { seed, signIn } from './authorize-fixtures.ts';

const { challenge } = pkcePair();
const q = (params: Record<string, string>) => `/auth/authorize?${new URLSearchParams(params)}`;

for (const engine of engines()) {
  describe(`/auth/authorize request validation (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      await seed(server);
    });
    after(() => server.close());

    /** Asserts the request is refused on Warden's own error page and the browser is not sent anywhere. */
    async function refusedOnPage(path: string, message: RegExp) {
      const response = await new CookieBrowser(server.url).get(path);
      assert.equal(response.status, 400, response.text);
      assert.equal(response.location, null);
      assert.match(response.headers.get('content-type')!, /^text\/html/);
      assert.match(response.text, message);
      return response;
    }

    /** Asserts the request is answered at `redirectUri` with `error`, and returns the response parameters. */
    async function errorAtClient(path: string, redirectUri: string, error: string, mode: 'query' | 'fragment' = 'query') {
      const response = await new CookieBrowser(server.url).get(path);
      assert.equal(response.status, 303, response.text);
      const location = new URL(response.location!);
      assert.equal(`${location.origin}${location.pathname}`, redirectUri);
      const params = new URLSearchParams(mode === 'query' ? location.search : location.hash.slice(1));
      assert.equal(params.get('error'), error, params.get('error_description') ?? '');
      assert.equal(params.get('iss'), server.url, 'RFC 9207 iss in every response');
      return params;
    }

    test('an unknown client_id is shown on the error page, not redirected', async () => {
      await refusedOnPage(q({ client_id: 'nobody', response_type: 'code', redirect_uri: 'https://evil.example/', state: 's' }), /Unknown client_id/);
    });

    test('a missing client_id is shown on the error page', async () => {
      await refusedOnPage(q({ response_type: 'code', state: 's' }), /client_id is missing/);
    });

    const base = { client_id: 'spa', response_type: 'code', state: 'xyz', code_challenge: challenge, code_challenge_method: 'S256' };
    const tricks = [
      ['a prefix of the registered URI', 'https://spa.example/call'],
      ['the registered URI with a suffix', 'https://spa.example/callback/../admin'],
      ['the registered URI with an extra path segment', 'https://spa.example/callback/evil'],
      ['the registered URI with an added query', 'https://spa.example/callback?next=https://evil.example'],
      ['a percent-encoded variant', 'https://spa.example/%63allback'],
      ['a different letter case in the path', 'https://spa.example/Callback'],
      ['a trailing slash', 'https://spa.example/callback/'],
      ['userinfo pointing elsewhere', 'https://spa.example@evil.example/callback'],
      ['a look-alike host', 'https://spa.example.evil.example/callback'],
      ['http instead of https', 'http://spa.example/callback'],
      ['an explicit default port', 'https://spa.example:443/callback'],
      ['a fragment', 'https://spa.example/callback#x'],
      ['the implicit URI used for the code flow', 'https://spa.example/implicit'],
    ];
    for (const [name, redirectUri] of tricks) {
      test(`a redirect_uri that is ${name} is refused on the error page`, async () => {
        await refusedOnPage(q({ ...base, redirect_uri: redirectUri }), /redirect_uri/);
      });
    }

    test('a repeated redirect_uri is refused on the error page', async () => {
      await refusedOnPage(
        `${q(base)}&redirect_uri=${encodeURIComponent('https://spa.example/callback')}&redirect_uri=${encodeURIComponent('https://evil.example/')}`,
        /redirect_uri is repeated/,
      );
    });

    test('the seed web-app: each comma-separated redirect_uri is accepted exactly', async () => {
      for (const uri of ['http://localhost:4200', 'https://example.com']) {
        const response = await new CookieBrowser(server.url).get(q({ client_id: 'web-app', response_type: 'code', state: 's', redirect_uri: uri }));
        assert.equal(response.status, 303);
        assert.match(response.location!, /^\/auth\/login\?return_to=/);
      }
      await refusedOnPage(q({ client_id: 'web-app', response_type: 'code', state: 's', redirect_uri: 'http://localhost:4200,https://example.com' }), /redirect_uri/);
    });

    test('redirect_uri may be left out only when exactly one is registered', async () => {
      const single = await new CookieBrowser(server.url).get(q({ client_id: 'spa', response_type: 'code', state: 's', code_challenge: challenge, code_challenge_method: 'S256' }));
      assert.equal(single.status, 303);
      assert.match(single.location!, /^\/auth\/login/);
      await refusedOnPage(q({ client_id: 'web-app', response_type: 'code', state: 's' }), /more than one/);
    });

    test('RFC 8252 §7.3: a loopback IP redirect URI matches on any port, but nothing else may differ', async () => {
      const native = { client_id: 'native', response_type: 'code', state: 's', code_challenge: challenge, code_challenge_method: 'S256' };
      const ok = await new CookieBrowser(server.url).get(q({ ...native, redirect_uri: 'http://127.0.0.1:51004/callback' }));
      assert.equal(ok.status, 303);
      assert.match(ok.location!, /^\/auth\/login/);
      await refusedOnPage(q({ ...native, redirect_uri: 'http://127.0.0.1:51004/callback2' }), /redirect_uri/);
      await refusedOnPage(q({ ...native, redirect_uri: 'https://127.0.0.1:51004/callback' }), /redirect_uri/);
      await refusedOnPage(q({ ...native, redirect_uri: 'http://[::1]:51004/callback' }), /redirect_uri/);
      // localhost is not a loopback IP literal: its port must match exactly.
      await refusedOnPage(q({ ...native, redirect_uri: 'http://localhost:8001/cb' }), /redirect_uri/);
    });

    test('an unsupported response_type is answered at the client with unsupported_response_type, state and iss', async () => {
      const params = await errorAtClient(q({ ...base, response_type: 'id_token', redirect_uri: 'https://spa.example/callback' }), 'https://spa.example/callback', 'unsupported_response_type');
      assert.equal(params.get('state'), 'xyz');
    });

    test('a client without the implicit grant gets unauthorized_client for response_type=token', async () => {
      await errorAtClient(q({ client_id: 'web-app', response_type: 'token', state: 's', redirect_uri: 'https://example.com' }), 'https://example.com/', 'unauthorized_client', 'fragment');
    });

    test('PKCE downgrade: code_challenge_method=plain is refused', async () => {
      const params = await errorAtClient(q({ ...base, code_challenge: challenge, code_challenge_method: 'plain', redirect_uri: 'https://spa.example/callback' }), 'https://spa.example/callback', 'invalid_request');
      assert.match(params.get('error_description')!, /S256/);
    });

    test('PKCE downgrade: a challenge without a method (plain by default) is refused', async () => {
      const { code_challenge_method: _, ...rest } = base;
      await errorAtClient(q({ ...rest, redirect_uri: 'https://spa.example/callback' }), 'https://spa.example/callback', 'invalid_request');
    });

    test('a public client must use PKCE', async () => {
      const params = await errorAtClient(q({ client_id: 'spa', response_type: 'code', state: 's', redirect_uri: 'https://spa.example/callback' }), 'https://spa.example/callback', 'invalid_request');
      assert.match(params.get('error_description')!, /PKCE is required/);
    });

    test('a malformed code_challenge is refused', async () => {
      await errorAtClient(q({ ...base, code_challenge: 'short', redirect_uri: 'https://spa.example/callback' }), 'https://spa.example/callback', 'invalid_request');
    });

    test('missing state: refused without PKCE, since the client could not detect CSRF', async () => {
      const params = await errorAtClient(q({ client_id: 'web-app', response_type: 'code', redirect_uri: 'https://example.com' }), 'https://example.com/', 'invalid_request');
      assert.match(params.get('error_description')!, /state is required/);
      assert.equal(params.get('state'), null);
    });

    test('missing state: accepted with PKCE, whose verifier binds the response to the client', async () => {
      const { state: _, ...rest } = base;
      const response = await new CookieBrowser(server.url).get(q({ ...rest, redirect_uri: 'https://spa.example/callback' }));
      assert.equal(response.status, 303);
      assert.match(response.location!, /^\/auth\/login/);
    });

    test('missing state: always refused for the implicit flow', async () => {
      await errorAtClient(q({ client_id: 'spa', response_type: 'token', redirect_uri: 'https://spa.example/implicit' }), 'https://spa.example/implicit', 'invalid_request', 'fragment');
    });

    test('a token is never sent in the query: response_mode=query with response_type=token is refused', async () => {
      await errorAtClient(q({ client_id: 'spa', response_type: 'token', state: 's', response_mode: 'query', redirect_uri: 'https://spa.example/implicit' }), 'https://spa.example/implicit', 'invalid_request', 'fragment');
    });

    test('a repeated parameter other than client_id and redirect_uri is answered with invalid_request', async () => {
      await errorAtClient(`${q({ ...base, redirect_uri: 'https://spa.example/callback' })}&state=other`, 'https://spa.example/callback', 'invalid_request');
    });

    test('a scope with a forbidden character is invalid_scope', async () => {
      await errorAtClient(q({ ...base, scope: 'openid "quoted"', redirect_uri: 'https://spa.example/callback' }), 'https://spa.example/callback', 'invalid_scope');
    });

    test('a client with a scope list: another scope is invalid_scope, no scope means the whole list', async () => {
      const put = await server.request('PUT', '/Client/limited', {
        body: { resourceType: 'Client', id: 'limited', secret: 's', grant_types: ['authorization_code'], scope: ['openid', 'profile'], redirect_uri: 'https://limited.example/cb' },
      });
      assert.ok(put.status < 300, put.text);
      const request = { client_id: 'limited', response_type: 'code', state: 's', redirect_uri: 'https://limited.example/cb' };
      const params = await errorAtClient(q({ ...request, scope: 'openid email' }), 'https://limited.example/cb', 'invalid_scope');
      assert.match(params.get('error_description')!, /"email" is not allowed/);
      const browser = new CookieBrowser(server.url);
      const login = await signIn(browser, q(request));
      const consent = await browser.get(login.location!);
      assert.equal(consent.status, 200);
      assert.match(consent.text, /<code>openid<\/code>/);
      assert.match(consent.text, /<code>profile<\/code>/);
    });

    test('prompt=none without a signed-in user is login_required', async () => {
      await errorAtClient(q({ ...base, prompt: 'none', redirect_uri: 'https://spa.example/callback' }), 'https://spa.example/callback', 'login_required');
    });

    test('the error description is passed as data, not markup, on the error page', async () => {
      const response = await refusedOnPage(q({ client_id: '<img src=x onerror=alert(1)>', response_type: 'code' }), /Unknown client_id/);
      assert.doesNotMatch(response.text, /<img src=x/);
    });

    test('prompt=none with a signed-in user who has not consented is consent_required', async () => {
      const browser = new CookieBrowser(server.url);
      const login = await signIn(browser, q({ ...base, redirect_uri: 'https://spa.example/callback' }));
      assert.equal(login.status, 303);
      const response = await browser.get(q({ ...base, prompt: 'none', redirect_uri: 'https://spa.example/callback' }));
      const params = new URLSearchParams(new URL(response.location!).search);
      assert.equal(params.get('error'), 'consent_required');
    });
  });
}
