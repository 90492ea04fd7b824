// The login, consent and logout pages over HTTP: sessions, CSRF, consent remembered as a Grant, and the
// headers and escaping that keep the pages safe.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CookieBrowser, hiddenFields, pkcePair } from '../helpers/browser.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { ALICE, seed, signIn } from './authorize-fixtures.ts';

const { challenge } = pkcePair();
const q = (params: Record<string, string>) => `/auth/authorize?${new URLSearchParams(params)}`;
const spaRequest = (extra: Record<string, string> = {}) =>
  q({ client_id: 'spa', response_type: 'code', state: 'st', scope: 'openid profile', redirect_uri: 'https://spa.example/callback', code_challenge: challenge, code_challenge_method: 'S256', ...extra });
const portalRequest = q({ client_id: 'portal', response_type: 'code', state: 'p1', scope: 'openid', redirect_uri: 'https://portal.example/cb' });

for (const engine of engines()) {
  describe(`login, consent and logout pages (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      await seed(server);
    });
    after(() => server.close());

    test('every page forbids framing (clickjacking) and caching', async () => {
      const browser = new CookieBrowser(server.url);
      for (const path of ['/auth/login', '/auth/logout', q({ client_id: 'nobody' })]) {
        const response = await browser.get(path);
        assert.match(response.headers.get('content-security-policy')!, /frame-ancestors 'none'/, path);
        assert.equal(response.headers.get('x-frame-options'), 'DENY', path);
        assert.equal(response.headers.get('cache-control'), 'no-store', path);
        assert.doesNotMatch(response.headers.get('content-security-policy')!, /script-src/, 'no script is allowed at all');
      }
    });

    test('the pages are styled by a served stylesheet that the CSP allows', async () => {
      const css = await new CookieBrowser(server.url).get('/auth/assets/warden.css');
      assert.equal(css.status, 200);
      assert.match(css.headers.get('content-type')!, /text\/css/);
      const login = await new CookieBrowser(server.url).get('/auth/login');
      assert.match(login.text, /<link rel="stylesheet" href="\/auth\/assets\/warden.css">/);
      assert.match(login.headers.get('content-security-policy')!, /style-src 'self'/);
    });

    test('cookies are HttpOnly and SameSite=Lax, and not Secure on an http base URL', async () => {
      const browser = new CookieBrowser(server.url);
      await signIn(browser, spaRequest());
      assert.ok(browser.setCookieHeaders.length >= 2);
      for (const cookie of browser.setCookieHeaders) {
        assert.match(cookie, /; HttpOnly/);
        assert.match(cookie, /; SameSite=Lax/);
        assert.doesNotMatch(cookie, /; Secure/);
      }
    });

    test('signing in by email or by user id sends the browser back to the authorization request', async () => {
      for (const username of [ALICE.email, ALICE.id, ALICE.email.toUpperCase()]) {
        const browser = new CookieBrowser(server.url);
        const login = await signIn(browser, spaRequest(), username);
        assert.equal(login.status, 303, login.text);
        assert.match(login.location!, /^\/auth\/authorize\?/);
        assert.ok(browser.cookies.has('warden_session'));
      }
    });

    test('an unknown user and a wrong password get the same answer', async () => {
      const answers = [];
      for (const [username, password] of [['nobody@example.com', 'whatever'], [ALICE.email, 'wrong password']]) {
        const browser = new CookieBrowser(server.url);
        const login = await signIn(browser, spaRequest(), username, password);
        const csrf = hiddenFields(login.text).csrf_token;
        answers.push({ status: login.status, text: login.text.replace(csrf, 'CSRF').replace(username, 'USER'), session: browser.cookies.has('warden_session') });
      }
      assert.equal(answers[0].status, 401);
      assert.deepEqual(answers[0], answers[1]);
      assert.equal(answers[0].session, false);
      assert.match(answers[0].text, /Incorrect email, user id or password/);
    });

    test('a login form posted without its CSRF token is refused', async () => {
      const browser = new CookieBrowser(server.url);
      await browser.get('/auth/login');
      const response = await browser.post('/auth/login', { username: ALICE.email, password: ALICE.password });
      assert.equal(response.status, 403);
      assert.equal(browser.cookies.has('warden_session'), false);
    });

    test('a CSRF token from another browser is refused', async () => {
      const attacker = new CookieBrowser(server.url);
      const token = hiddenFields((await attacker.get('/auth/login')).text).csrf_token;
      const victim = new CookieBrowser(server.url);
      await victim.get('/auth/login');
      const response = await victim.post('/auth/login', { csrf_token: token, username: ALICE.email, password: ALICE.password });
      assert.equal(response.status, 403);
    });

    test('login always starts a new session id (no session fixation)', async () => {
      const browser = new CookieBrowser(server.url);
      await signIn(browser, spaRequest());
      const first = browser.cookies.get('warden_session');
      await signIn(browser, spaRequest({ prompt: 'login' }));
      const second = browser.cookies.get('warden_session');
      assert.ok(first && second);
      assert.notEqual(first, second);
      // The old id no longer signs anyone in.
      const stale = new CookieBrowser(server.url);
      stale.cookies.set('warden_session', first);
      const response = await stale.get(spaRequest());
      assert.match(response.location!, /^\/auth\/login/);
    });

    test('the login page goes back only to an authorization request (no open redirect)', async () => {
      const browser = new CookieBrowser(server.url);
      for (const target of ['https://evil.example/', '//evil.example/auth/authorize?x', '/auth/authorize/../../admin?x', '/Patient']) {
        const page = await browser.get(`/auth/login?return_to=${encodeURIComponent(target)}`);
        assert.equal(hiddenFields(page.text).return_to, '', target);
      }
    });

    test('the consent page escapes the client name and carries the request and a CSRF token', async () => {
      const browser = new CookieBrowser(server.url);
      const login = await signIn(browser, spaRequest());
      const consent = await browser.get(login.location!);
      assert.equal(consent.status, 200);
      assert.doesNotMatch(consent.text, /<script>/);
      assert.match(consent.text, /&lt;script&gt;alert\(&quot;spa&quot;\)&lt;\/script&gt; Notes/);
      const form = hiddenFields(consent.text);
      assert.ok(form.csrf_token);
      assert.equal(form.client_id, 'spa');
      assert.equal(form.code_challenge, challenge);
    });

    test('consent allowed gives a code at the redirect URI, with state and iss, and is remembered as a Grant', async () => {
      const browser = new CookieBrowser(server.url);
      const login = await signIn(browser, spaRequest());
      const consent = await browser.get(login.location!);
      const allowed = await browser.post('/auth/authorize', { ...hiddenFields(consent.text), decision: 'allow' });
      assert.equal(allowed.status, 303, allowed.text);
      const location = new URL(allowed.location!);
      assert.equal(`${location.origin}${location.pathname}`, 'https://spa.example/callback');
      assert.match(location.searchParams.get('code')!, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(location.searchParams.get('state'), 'st');
      assert.equal(location.searchParams.get('iss'), server.url);

      const grants = await server.request('GET', '/Grant');
      const grant = grants.body.entry.map((entry: { resource: Record<string, any> }) => entry.resource).find((g: any) => g.client.id === 'spa');
      assert.equal(grant.user.id, ALICE.id);
      assert.equal(grant.scope, 'openid profile');

      // The same scopes again: no consent page, straight to the client.
      const again = await browser.get(spaRequest({ state: 'st2' }));
      assert.equal(again.status, 303);
      assert.equal(new URL(again.location!).searchParams.get('state'), 'st2');
      // A new scope: asked again.
      const more = await browser.get(spaRequest({ scope: 'openid profile email' }));
      assert.equal(more.status, 200);
      assert.match(more.text, /See your email address/);
    });

    test('consent denied sends access_denied to the client', async () => {
      const browser = new CookieBrowser(server.url);
      const login = await signIn(browser, spaRequest({ scope: 'patient/*.read' }));
      const consent = await browser.get(login.location!);
      const denied = await browser.post('/auth/authorize', { ...hiddenFields(consent.text), decision: 'deny' });
      const location = new URL(denied.location!);
      assert.equal(location.searchParams.get('error'), 'access_denied');
      assert.equal(location.searchParams.get('state'), 'st');
      assert.equal(location.searchParams.get('iss'), server.url);
    });

    test('a consent decision posted without a valid CSRF token is refused', async () => {
      const browser = new CookieBrowser(server.url);
      const login = await signIn(browser, spaRequest({ scope: 'launch/patient' }));
      const consent = await browser.get(login.location!);
      const form = { ...hiddenFields(consent.text), decision: 'allow', csrf_token: 'forged' };
      const response = await browser.post('/auth/authorize', form);
      assert.equal(response.status, 403);
      assert.equal(response.location, null);
    });

    test('a first-party client never shows the consent page', async () => {
      const browser = new CookieBrowser(server.url);
      const login = await signIn(browser, portalRequest);
      const response = await browser.get(login.location!);
      assert.equal(response.status, 303);
      assert.ok(new URL(response.location!).searchParams.get('code'));
    });

    test('logout needs a confirmed form, ends the session and clears the cookie', async () => {
      const browser = new CookieBrowser(server.url);
      await signIn(browser, portalRequest);
      const confirm = await browser.get('/auth/logout');
      assert.match(confirm.text, /Alice Liddell/);
      // A forged logout (no token) changes nothing.
      assert.equal((await browser.post('/auth/logout', {})).status, 403);
      assert.equal((await browser.get(portalRequest)).status, 303);
      assert.match((await browser.get(portalRequest)).location!, /^https:\/\/portal\.example/);
      const stale = browser.cookies.get('warden_session')!;
      const done = await browser.post('/auth/logout', hiddenFields(confirm.text));
      assert.equal(done.status, 200);
      assert.match(done.text, /You are signed out/);
      assert.equal(browser.cookies.has('warden_session'), false);
      // Neither the browser nor a copy of the old cookie is signed in any more.
      assert.match((await browser.get(portalRequest)).location!, /^\/auth\/login/);
      const copy = new CookieBrowser(server.url);
      copy.cookies.set('warden_session', stale);
      assert.match((await copy.get(portalRequest)).location!, /^\/auth\/login/);
    });

    test('prompt=login asks a signed-in user to sign in again', async () => {
      const browser = new CookieBrowser(server.url);
      await signIn(browser, portalRequest);
      const response = await browser.get(`${portalRequest}&prompt=login`);
      assert.match(response.location!, /^\/auth\/login\?return_to=/);
      assert.doesNotMatch(decodeURIComponent(response.location!), /prompt=login/);
    });

    test('the browser session is stored only as a hash', async () => {
      const browser = new CookieBrowser(server.url);
      await signIn(browser, portalRequest);
      const value = browser.cookies.get('warden_session')!;
      const rows = await server.app.ctx.db.query<{ n: number }>(
        `select count(*)::int as n from browser_session where id_hash = $1 or sid = $1`,
        [decodeURIComponent(value)],
      );
      assert.equal(Number(rows[0].n), 0);
    });
  });

  describe(`login throttling (${engine})`, () => {
    test('after too many failures for one login the page answers 429 with Retry-After, even to the right password', async () => {
      const server = await startTestServer(engine, { throttle: { identityLimit: 3, addressLimit: 1000, windowSeconds: 600, knownAddressSeconds: 86_400 } });
      try {
        await seed(server);
        for (let attempt = 0; attempt < 3; attempt++) {
          const failed = await signIn(new CookieBrowser(server.url), portalRequest, ALICE.email, `wrong-${attempt}`);
          assert.equal(failed.status, 401);
        }
        const browser = new CookieBrowser(server.url);
        const blocked = await signIn(browser, portalRequest);
        assert.equal(blocked.status, 429);
        assert.ok(Number(blocked.headers.get('retry-after')) > 0);
        assert.match(blocked.text, /Too many failed sign-in attempts/);
        assert.equal(browser.cookies.has('warden_session'), false);
      } finally {
        await server.close();
      }
    });
  });

  describe(`cookies on an https base URL (${engine})`, () => {
    test('are Secure and use the __Host- prefix', async () => {
      const server = await startTestServer(engine, { baseUrl: 'https://warden.example' });
      try {
        const response = await server.app.server.inject({ method: 'GET', url: '/auth/login' });
        const cookie = String(response.headers['set-cookie']);
        assert.match(cookie, /^__Host-warden_csrf=/);
        assert.match(cookie, /; Secure/);
        assert.match(cookie, /; HttpOnly/);
        assert.match(cookie, /Path=\//);
      } finally {
        await server.close();
      }
    });
  });
}
