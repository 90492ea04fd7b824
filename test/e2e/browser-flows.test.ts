// The browser flows end to end in real headless Chromium: sign in, consent, arrive at the client's redirect URI
// with a code, exchange it; logout; and the attacks a browser makes possible (framing, cross-site form posts).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { pkcePair } from '../helpers/browser.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { ALICE, seed } from '../oauth/authorize-fixtures.ts';
import { launchChromium, startClientApp, type ClientApp } from './browser-harness.ts';

const SCREENSHOTS = new URL('../../docs/screenshots/', import.meta.url);
const { verifier, challenge } = pkcePair();

/** `WARDEN_SCREENSHOTS=1 npm test` refreshes docs/screenshots; a plain test run leaves the files alone. */
const TAKE_SCREENSHOTS = process.env.WARDEN_SCREENSHOTS === '1';

for (const [index, engine] of engines().entries()) {
  // Screenshots once, from the first engine: the pages are the same on both.
  const screenshot = async (page: Page, name: string) => {
    if (index !== 0 || !TAKE_SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });
  };

  describe(`browser flows in Chromium (${engine})`, () => {
    let server: TestServer;
    let app: ClientApp;
    let browser: Browser;

    before(async () => {
      [server, app, browser] = await Promise.all([startTestServer(engine), startClientApp(), launchChromium()]);
      await seed(server);
      const put = await server.request('PUT', '/Client/notes', {
        body: {
          resourceType: 'Client',
          id: 'notes',
          name: 'Clinical Notes',
          grant_types: ['authorization_code'],
          auth: { authorization_code: { redirect_uri: app.callback } },
        },
      });
      assert.ok(put.status < 300, put.text);
    });
    after(async () => {
      await browser?.close();
      await app?.close();
      await server?.close();
    });

    const authorizeUrl = (extra: Record<string, string> = {}) =>
      `${server.url}/auth/authorize?${new URLSearchParams({
        client_id: 'notes',
        response_type: 'code',
        redirect_uri: app.callback,
        scope: 'openid profile patient/*.read',
        state: 'af0ifjsldkj',
        nonce: 'n-0S6',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        ...extra,
      })}`;

    async function signIn(page: Page, username = ALICE.email, password = ALICE.password) {
      await page.getByLabel('Email or user id').fill(username);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
    }

    test('sign in, consent, arrive at the redirect URI with a code, exchange it', async () => {
      const context = await browser.newContext({ viewport: { width: 960, height: 760 } });
      const page = await context.newPage();
      await page.goto(authorizeUrl());
      assert.match(page.url(), /\/auth\/login\?return_to=/);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      assert.match(await page.locator('.lead').innerText(), /Clinical Notes/);
      await screenshot(page, 'login');

      await signIn(page, ALICE.email, 'not the password');
      await page.getByRole('alert').waitFor();
      assert.match(await page.getByRole('alert').innerText(), /Incorrect email, user id or password/);
      await screenshot(page, 'login-failed');

      await signIn(page);
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      assert.match(await page.locator('h1').innerText(), /Clinical Notes/);
      await screenshot(page, 'consent');

      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((url) => url.href.startsWith(app.callback));
      const callback = new URL(page.url());
      assert.equal(callback.searchParams.get('state'), 'af0ifjsldkj');
      assert.equal(callback.searchParams.get('iss'), server.url);
      const code = callback.searchParams.get('code')!;

      const token = await fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: 'notes', redirect_uri: app.callback, code_verifier: verifier }),
      });
      assert.equal(token.status, 200);
      const tokens = (await token.json()) as Record<string, string>;
      assert.ok(tokens.access_token && tokens.id_token);

      // Signed in and consented: the next authorization goes straight back to the client.
      await page.goto(authorizeUrl({ state: 'second' }));
      await page.waitForURL((url) => url.href.startsWith(app.callback));
      assert.equal(new URL(page.url()).searchParams.get('state'), 'second');

      // Logout ends the session and the tokens issued in it.
      await page.goto(`${server.url}/auth/logout`);
      assert.match(await page.locator('.lead').innerText(), /Alice Liddell/);
      await screenshot(page, 'logout');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
      await screenshot(page, 'logged-out');
      const userinfo = await fetch(`${server.url}/auth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(userinfo.status, 401);
      await page.goto(authorizeUrl());
      assert.match(page.url(), /\/auth\/login/);
      await context.close();
    });

    test('the cookies Chromium holds are HttpOnly and SameSite=Lax', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(authorizeUrl({ scope: 'openid email' }));
      await signIn(page);
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      const cookies = await context.cookies(server.url);
      assert.deepEqual(cookies.map((cookie) => cookie.name).sort(), ['warden_csrf', 'warden_session']);
      for (const cookie of cookies) {
        assert.equal(cookie.httpOnly, true);
        assert.equal(cookie.sameSite, 'Lax');
      }
      assert.equal(await page.evaluate(() => document.cookie).catch(() => ''), '', 'no script can read them');
      await context.close();
    });

    test('an unknown client is shown on the error page and the browser stays on Warden', async () => {
      const context = await browser.newContext({ viewport: { width: 960, height: 640 } });
      const page = await context.newPage();
      const response = await page.goto(`${server.url}/auth/authorize?client_id=notes&response_type=code&redirect_uri=${encodeURIComponent('https://evil.example/steal')}&state=x`);
      assert.equal(response!.status(), 400);
      assert.ok(page.url().startsWith(server.url));
      await page.getByRole('alert').waitFor();
      assert.match(await page.getByRole('alert').innerText(), /redirect_uri is not registered/);
      await screenshot(page, 'error');
      await context.close();
    });

    test('clickjacking: another site cannot show the login page in a frame', async () => {
      app.page('/framer', `<!doctype html><title>Framer</title><iframe id="f" src="${server.url}/auth/login" width="600" height="400"></iframe>`);
      const context = await browser.newContext();
      const page = await context.newPage();
      const blocked = page.waitForEvent('console', (message) => /frame-ancestors|Refused to frame/i.test(message.text()));
      await page.goto(`${app.origin}/framer`);
      await blocked;
      const frame = page.frames().find((candidate) => candidate !== page.mainFrame());
      assert.ok(frame);
      assert.equal(await frame.locator('#username').count(), 0, 'the login form did not render in the frame');
      await context.close();
    });

    test('CSRF: a form on another site cannot post a consent decision for the signed-in user', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(authorizeUrl({ scope: 'openid user/*.*' }));
      await signIn(page);
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      // The attacker knows every parameter except the CSRF token.
      const fields = Object.entries({
        client_id: 'notes', response_type: 'code', redirect_uri: app.callback, scope: 'openid user/*.*', state: 'evil',
        code_challenge: challenge, code_challenge_method: 'S256', decision: 'allow', csrf_token: 'guessed',
      }).map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`).join('');
      app.page('/csrf', `<!doctype html><title>Win a prize</title><form id="f" method="post" action="${server.url}/auth/authorize">${fields}</form><script>document.getElementById('f').submit()</script>`);
      const response = page.waitForResponse((candidate) => candidate.url().startsWith(`${server.url}/auth/authorize`) && candidate.request().method() === 'POST');
      await page.goto(`${app.origin}/csrf`);
      assert.equal((await response).status(), 403);
      await page.getByRole('alert').waitFor();
      assert.ok(page.url().startsWith(server.url), 'no redirect to the client with a code');
      await context.close();
    });
  });
}
