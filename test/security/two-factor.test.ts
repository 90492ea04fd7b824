// TOTP two-factor login (RFC 6238) attacked over raw HTTP: a password alone never starts a session, a code
// works once (RFC 6238 §5.2), wrong codes are throttled (OWASP ASVS 5.0 V6.3.1), the key is never readable
// through the API, recovery codes are single use, the password grant cannot bypass the second factor, and
// turning it off needs a code.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as OTPAuth from 'otpauth';
import { CookieBrowser, field, hiddenFields } from '../helpers/browser.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const USER = { id: 'tess', email: 'tess@example.com', password: 'tess-password-long-enough' };
const PERIOD_MS = 30_000;

/** The code of `secret` for the time step `step` (as the authenticator app computes it). */
const codeAt = (secret: string, step: number) =>
  OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), timestamp: step * PERIOD_MS, period: 30 });
const currentStep = () => Math.floor(Date.now() / PERIOD_MS);

for (const engine of engines()) {
  describe(`two-factor login: attacks (${engine})`, () => {
    let server: TestServer;
    let secret: string;
    let enrolStep: number;
    let recoveryCodes: string[];

    /** Signs in with the password; answers the code page (no session yet). */
    async function password(browser: CookieBrowser, returnTo = '') {
      const login = await browser.get(`/auth/login${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`);
      return browser.post('/auth/login', { ...hiddenFields(login.text), username: USER.email, password: USER.password });
    }
    const sendCode = (browser: CookieBrowser, page: string, code: string) => browser.post('/auth/login/two-factor', { csrf_token: field(page, 'csrf_token'), code });

    before(async () => {
      server = await startTestServer(engine, { throttle: { identityLimit: 3, addressLimit: 1000, windowSeconds: 600, knownAddressSeconds: 86_400 } });
      await server.request('PUT', '/User/tess', { body: USER });
      await server.request('PUT', '/AuthConfig/auth', { body: { twoFactor: { issuerName: 'Warden Test', validPastTokensCount: 1 } } });
      await server.request('PUT', '/Client/legacy', { body: { secret: 'legacy-secret', grant_types: ['password'] } });
      // Enrolment: signed in with the password, scan, confirm with a code.
      const browser = new CookieBrowser(server.url);
      assert.equal((await password(browser)).status, 200);
      const enrol = await browser.get('/auth/two-factor');
      assert.equal(enrol.status, 200);
      assert.match(enrol.text, /<img class="qr" src="data:image\/png;base64,/);
      secret = /<p class="detail" id="secret-key">([A-Z2-7]+)<\/p>/.exec(enrol.text)![1];
      const wrong = await browser.post('/auth/two-factor', { ...hiddenFields(enrol.text), code: '000000' === codeAt(secret, currentStep()) ? '111111' : '000000' });
      assert.equal(wrong.status, 401);
      enrolStep = currentStep();
      const on = await browser.post('/auth/two-factor', { ...hiddenFields(wrong.text), code: codeAt(secret, enrolStep) });
      assert.equal(on.status, 200, on.text);
      recoveryCodes = [...on.text.matchAll(/<li><code>([0-9a-f-]+)<\/code><\/li>/g)].map((match) => match[1]);
      assert.equal(recoveryCodes.length, 10);
    });
    after(() => server?.close());

    test('the TOTP key and recovery codes are never readable through the API (sealed, hashed)', async () => {
      const user = (await server.request('GET', '/User/tess')).body;
      assert.equal(user.twoFactor.enabled, true);
      assert.match(user.twoFactor.secretKey, /^sealed:v1:/);
      const text = JSON.stringify(user);
      assert.ok(!text.includes(secret));
      for (const code of recoveryCodes) assert.ok(!text.includes(code));
    });

    test('the right password alone starts no session: the code is asked for', async () => {
      const browser = new CookieBrowser(server.url);
      const page = await password(browser);
      assert.equal(page.status, 200);
      assert.match(page.text, /Enter your code/);
      assert.equal(browser.cookies.has('warden_session'), false);
      // The code page cannot be skipped by going on to the authorization.
      const authorize = await browser.get('/auth/authorize?client_id=legacy&response_type=code');
      assert.notEqual(authorize.status, 200);
    });

    test('a wrong code is refused; the right one signs in and continues; the same code is refused again (RFC 6238 §5.2)', async () => {
      const browser = new CookieBrowser(server.url);
      const page = await password(browser);
      const code = codeAt(secret, enrolStep + 1);
      const wrong = await sendCode(browser, page.text, code === '123456' ? '654321' : '123456');
      assert.equal(wrong.status, 401);
      assert.match(wrong.text, /not right/);
      const right = await sendCode(browser, wrong.text, code);
      assert.equal(right.status, 200, right.text);
      assert.ok(browser.cookies.has('warden_session'));

      const again = new CookieBrowser(server.url);
      const replay = await sendCode(again, (await password(again)).text, code);
      assert.equal(replay.status, 401);
      assert.match(replay.text, /used already/);
      assert.equal(again.cookies.has('warden_session'), false);
      // The code of the enrolment, an earlier step, is refused too.
      assert.equal((await sendCode(again, replay.text, codeAt(secret, enrolStep))).status, 401);
    });

    test('a recovery code signs in once, and only once', async () => {
      const browser = new CookieBrowser(server.url);
      const ok = await sendCode(browser, (await password(browser)).text, recoveryCodes[0]);
      assert.equal(ok.status, 200);
      const again = new CookieBrowser(server.url);
      assert.equal((await sendCode(again, (await password(again)).text, recoveryCodes[0])).status, 401);
    });

    test('the code step without a password step first is sent back to the login', async () => {
      const browser = new CookieBrowser(server.url);
      const login = await browser.get('/auth/login');
      const code = await browser.post('/auth/login/two-factor', { csrf_token: field(login.text, 'csrf_token'), code: codeAt(secret, currentStep()) });
      assert.equal(code.status, 303);
      assert.equal(browser.cookies.has('warden_session'), false);
    });

    test('the password grant of a two-factor user is refused with a clear error, even with the right password', async () => {
      const token = await fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', client_id: 'legacy', client_secret: 'legacy-secret', username: USER.email, password: USER.password }),
      });
      assert.equal(token.status, 400);
      const body = (await token.json()) as { error: string; error_description: string };
      assert.equal(body.error, 'invalid_grant');
      assert.match(body.error_description, /two-factor/);
    });

    test('turning two-factor off needs a valid code', async () => {
      const browser = new CookieBrowser(server.url);
      await sendCode(browser, (await password(browser)).text, recoveryCodes[1]);
      const settings = await browser.get('/auth/two-factor');
      assert.match(settings.text, /Two-factor sign-in is on/);
      const refused = await browser.post('/auth/two-factor', { ...hiddenFields(settings.text), code: 'not-a-code' });
      assert.equal(refused.status, 401);
      assert.equal((await server.request('GET', '/User/tess')).body.twoFactor.enabled, true);
      const off = await browser.post('/auth/two-factor', { ...hiddenFields(refused.text), code: recoveryCodes[2] });
      assert.equal(off.status, 200, off.text);
      assert.deepEqual((await server.request('GET', '/User/tess')).body.twoFactor, { enabled: false });
      // Back on for the last test, by an administrator writing the key in clear: it is sealed on write.
      const put = await server.request('PATCH', '/User/tess', { body: { twoFactor: { enabled: true, secretKey: secret } } });
      assert.match(put.body.twoFactor.secretKey, /^sealed:v1:/);
    });

    test('wrong codes are throttled, then even the right one waits (OWASP ASVS 5.0 V6.3.1)', async () => {
      const browser = new CookieBrowser(server.url);
      let page = await password(browser);
      for (let attempt = 0; attempt < 3; attempt++) {
        page = await sendCode(browser, page.text, '000000' === codeAt(secret, currentStep()) ? '999999' : '000000');
        assert.equal(page.status, 401);
      }
      const throttled = await sendCode(browser, page.text, codeAt(secret, currentStep() + 1));
      assert.equal(throttled.status, 429);
      assert.ok(Number(throttled.headers.get('retry-after')) > 0);
      assert.equal(browser.cookies.has('warden_session'), false);
    });
  });
}
