// What a hostile web page can do to a person's browser through Warden's own pages: read them cross-origin
// (CORS), frame them (clickjacking), steal or plant their cookies, bounce the user elsewhere (open redirect),
// inject headers, or find secrets in a cache. Raw HTTP against a real server on each engine.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CookieBrowser, hiddenFields, pkcePair } from '../helpers/browser.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { engines, request, startTestServer, type TestServer } from '../helpers/server.ts';
import { ALICE, seed, signIn } from '../oauth/authorize-fixtures.ts';

const EVIL = 'https://evil.example';
const AUTHORIZE = `/auth/authorize?response_type=code&client_id=spa&redirect_uri=https%3A%2F%2Fspa.example%2Fcallback&state=s1&code_challenge=${pkcePair().challenge}&code_challenge_method=S256`;
const PAGES = [AUTHORIZE, '/auth/login', '/auth/logout', '/auth/assets/warden.css', '/console/'];

function assertNoCors(headers: Headers, what: string): void {
  for (const name of ['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-expose-headers']) {
    assert.equal(headers.get(name), null, `${what} sent ${name}: ${headers.get(name)}`);
  }
}

/** OWASP ASVS 5.0 V3.4.6 (frame-ancestors), V3.4.4 (nosniff), V3.4.5 (Referrer-Policy), V14.3.2 (no-store). */
function assertPageHeaders(headers: Headers, what: string): void {
  assert.match(headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, what);
  assert.equal(headers.get('x-frame-options'), 'DENY', what);
  assert.equal(headers.get('x-content-type-options'), 'nosniff', what);
  assert.equal(headers.get('referrer-policy'), 'no-referrer', what);
  assert.match(headers.get('cache-control') ?? '', /no-store/, what);
}

for (const engine of engines()) {
  describe(`browser surfaces (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      await seed(server);
    });
    after(() => server.close());

    test('the pages send no CORS headers to another origin, GET or preflight (OWASP ASVS 5.0 V3.4.2)', async () => {
      for (const path of PAGES) {
        const response = await fetch(`${server.url}${path}`, { headers: { origin: EVIL }, redirect: 'manual' });
        assertNoCors(response.headers, `GET ${path}`);
        const preflight = await fetch(`${server.url}${path}`, {
          method: 'OPTIONS',
          headers: { origin: EVIL, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
        });
        assertNoCors(preflight.headers, `OPTIONS ${path}`);
      }
    });

    test('a percent-encoded page path is no way around the page rule (preflight and GET)', async () => {
      const encoded = '/auth/%61uthorize?response_type=code&client_id=spa';
      const preflight = await rawRequest(server.url, `OPTIONS ${encoded} HTTP/1.1\r\nOrigin: ${EVIL}\r\nAccess-Control-Request-Method: POST`);
      assert.equal(preflight.headers.get('access-control-allow-origin'), undefined, preflight.text);
      const get = await rawRequest(server.url, `GET ${encoded} HTTP/1.1\r\nOrigin: ${EVIL}`);
      assert.equal(get.headers.get('access-control-allow-origin'), undefined, get.text);
    });

    test('the API, token and discovery endpoints keep the configured CORS', async () => {
      for (const path of ['/metadata', '/.well-known/openid-configuration', '/.well-known/smart-configuration']) {
        const response = await fetch(`${server.url}${path}`, { headers: { origin: 'https://app.example' } });
        // The public metadata documents allow any origin ('*'); the API reflects a configured one.
        assert.ok(['https://app.example', '*'].includes(response.headers.get('access-control-allow-origin') ?? ''), path);
      }
      const preflight = await fetch(`${server.url}/auth/token`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example');
    });

    test('every page forbids framing, sniffing, referrers and caching (clickjacking; RFC 9700 §4.16)', async () => {
      const browser = new CookieBrowser(server.url);
      const login = await browser.get(`/auth/login?return_to=${encodeURIComponent(AUTHORIZE)}`);
      assertPageHeaders(login.headers, 'login page');
      const failed = await browser.post('/auth/login', { ...hiddenFields(login.text), username: ALICE.email, password: 'wrong' });
      assert.equal(failed.status, 401);
      assertPageHeaders(failed.headers, 'failed login page');
      const error = await browser.get('/auth/authorize?response_type=code&client_id=nobody');
      assert.equal(error.status, 400);
      assertPageHeaders(error.headers, 'error page');
      await signIn(browser, AUTHORIZE);
      const consent = await browser.get(AUTHORIZE);
      assert.equal(consent.status, 200);
      assert.match(consent.text, /<form/);
      assertPageHeaders(consent.headers, 'consent page');
      assertPageHeaders((await browser.get('/auth/logout')).headers, 'logout page');
      const console = await fetch(`${server.url}/console/`);
      assert.match(console.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.equal(console.headers.get('x-frame-options'), 'DENY');
    });

    test('the login and CSRF cookies are HttpOnly, SameSite=Lax and Path=/ (OWASP ASVS 5.0 V3.3.2, V3.3.4)', async () => {
      const browser = new CookieBrowser(server.url);
      await signIn(browser, AUTHORIZE);
      const cookies = browser.setCookieHeaders.filter((line) => /^warden_(session|csrf)=/.test(line));
      assert.deepEqual(new Set(cookies.map((line) => line.split('=')[0])), new Set(['warden_session', 'warden_csrf']));
      for (const line of cookies) {
        assert.match(line, /; HttpOnly/, line);
        assert.match(line, /; SameSite=Lax/, line);
        assert.match(line, /; Path=\//, line);
        assert.doesNotMatch(line, /Domain=/i, line);
      }
    });

    test('return_to never leaves the server: absolute, scheme-relative and backslash targets are dropped (open redirect, RFC 9700 §4.11)', async () => {
      for (const target of [`${EVIL}/auth/authorize?x=1`, '//evil.example/auth/authorize?x=1', '/\\evil.example', '/auth/authorize/../../x', '/auth/authorize?x=1#@evil.example', 'javascript:alert(1)//auth/authorize?']) {
        const browser = new CookieBrowser(server.url);
        const page = await browser.get(`/auth/login?return_to=${encodeURIComponent(target)}`);
        const response = await browser.post('/auth/login', { ...hiddenFields(page.text), return_to: target, username: ALICE.email, password: ALICE.password });
        assert.equal(response.status, 200, `${target} → ${response.status} ${response.location}`);
        assert.equal(response.location, null, target);
      }
    });

    test('a return_to carrying CR/LF or non-ASCII is dropped, not turned into a header or a 500 (header injection, CWE-113)', async () => {
      for (const target of ['/auth/authorize?a=1\r\nSet-Cookie: planted=1', '/auth/authorize?a=\u2028', '/auth/authorize?a=\u00e9\u4e2d']) {
        const browser = new CookieBrowser(server.url);
        const page = await browser.get(`/auth/login?return_to=${encodeURIComponent(target)}`);
        assert.equal(page.status, 200);
        const response = await browser.post('/auth/login', { ...hiddenFields(page.text), return_to: target, username: ALICE.email, password: ALICE.password });
        assert.equal(response.status, 200, `${JSON.stringify(target)} → ${response.status} ${response.text.slice(0, 200)}`);
        assert.ok(!browser.cookies.has('planted'));
      }
    });

    test('a state carrying CR/LF, NUL or non-ASCII is percent-encoded in the redirect, never a header or a 500 (CWE-113, RFC 6749 §4.1.2.1)', async () => {
      for (const state of ['a\r\nSet-Cookie: planted=1', 'a\u0000b', '\u00e9\u4e2d\u2028', '"><script>x</script>']) {
        // No code_challenge: the request is refused with an error redirect that carries the state back.
        const query = `response_type=code&client_id=spa&redirect_uri=${encodeURIComponent('https://spa.example/callback')}&state=${encodeURIComponent(state)}`;
        const response = await rawRequest(server.url, `GET /auth/authorize?${query} HTTP/1.1`);
        assert.ok(response.status === 303 || response.status === 400, `${JSON.stringify(state)}: ${response.status}`);
        assert.equal(response.headers.get('set-cookie'), undefined);
        const location = response.headers.get('location')?.[0];
        if (location) assert.equal(new URL(location).searchParams.get('state'), state);
      }
    });

    test('a cross-site POST to /auth/login or /auth/logout without the form token is refused and changes nothing (CSRF, OWASP ASVS 5.0 V3.5.1)', async () => {
      const browser = new CookieBrowser(server.url);
      await signIn(browser, AUTHORIZE);
      const session = browser.cookies.get('warden_session');
      assert.ok(session);
      const logout = await browser.send('POST', '/auth/logout', '', { origin: EVIL, 'content-type': 'application/x-www-form-urlencoded' });
      assert.equal(logout.status, 403);
      assert.equal(browser.cookies.get('warden_session'), session, 'the session cookie was not cleared');
      assert.equal((await browser.get(AUTHORIZE)).status, 200, 'still signed in');
      const stranger = new CookieBrowser(server.url);
      const login = await stranger.post('/auth/login', { username: ALICE.email, password: ALICE.password });
      assert.equal(login.status, 403, 'login CSRF: an attacker cannot sign a victim into the attacker account');
      assert.equal(stranger.cookies.has('warden_session'), false);
    });

    test('token responses, token errors, introspection and userinfo are never cached (RFC 6749 §5.1, RFC 7662 §2.2)', async () => {
      const form = (body: Record<string, string>) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() });
      const error = await fetch(`${server.url}/auth/token`, form({ grant_type: 'authorization_code', code: 'nope', client_id: 'spa' }));
      assert.equal(error.status, 400);
      assert.equal(error.headers.get('cache-control'), 'no-store');
      const introspect = await fetch(`${server.url}/auth/introspect`, form({ token: 'nope', client_id: 'spa' }));
      assert.ok(introspect.status < 500);
      assert.equal(introspect.headers.get('cache-control'), 'no-store');
      const userinfo = await fetch(`${server.url}/auth/userinfo`, { headers: { authorization: 'Bearer nope' } });
      assert.equal(userinfo.status, 401);
      assert.match(userinfo.headers.get('cache-control') ?? '', /no-store/);
    });

    test('the API answers health data with no-store and nosniff, so no browser or proxy keeps it (OWASP ASVS 5.0 V14.3.2, V3.4.4)', async () => {
      await server.request('PUT', '/Patient/cached', { body: { resourceType: 'Patient', name: [{ family: 'Cached' }] } });
      const read = await server.request('GET', '/Patient/cached');
      assert.equal(read.status, 200);
      assert.match(read.headers.get('cache-control') ?? '', /no-store/);
      assert.equal(read.headers.get('x-content-type-options'), 'nosniff');
      const denied = await server.request('GET', '/Patient/cached', { auth: null });
      assert.equal(denied.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(read.headers.get('strict-transport-security'), null, 'no HSTS over plain http');
    });
  });
}

describe('cookies behind https', () => {
  test('with an https base URL the cookies are Secure and __Host- prefixed (OWASP ASVS 5.0 V3.3.1)', async () => {
    // Behind a TLS-terminating proxy: the base URL says https, the test talks plain http to the port.
    const server = await startTestServer(engines()[0], { baseUrl: 'https://warden.example' });
    const direct = `http://127.0.0.1:${server.config.port}`;
    try {
      await seed({ ...server, request: (method, path, options) => request(direct, method, path, options) });
      const browser = new CookieBrowser(direct);
      await signIn(browser, AUTHORIZE.replace('client_id=spa', 'client_id=spa&aud=https%3A%2F%2Fwarden.example'));
      const cookies = browser.setCookieHeaders.filter((line) => /^__Host-warden_(session|csrf)=/.test(line));
      assert.equal(new Set(cookies.map((line) => line.split('=')[0])).size, 2, browser.setCookieHeaders.join('\n'));
      for (const line of cookies) assert.match(line, /; Secure/, line);
      // OWASP ASVS 5.0 V3.4.1: HSTS on every answer once the server is reached over https.
      assert.match((await fetch(`${direct}/metadata`)).headers.get('strict-transport-security') ?? '', /max-age=\d{7,}/);
    } finally {
      await server.close();
    }
  });
});
