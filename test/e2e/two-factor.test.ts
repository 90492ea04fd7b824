// Two-factor login in headless Chromium: enrol from the settings page (QR code and key, confirm with a code),
// then sign in to an application with password and code, codes computed here as an authenticator app would; a code
// used once is refused the second time, and wrong codes are throttled.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as OTPAuth from 'otpauth';
import type { Browser } from 'playwright-core';
import { pkcePair } from '../helpers/browser.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { launchChromium, startClientApp, type ClientApp } from './browser-harness.ts';

const USER = { id: 'ana', email: 'ana@example.com', password: 'ana-password-long-enough' };
const codeAt = (secret: string, step: number) =>
  OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), timestamp: step * 30_000, period: 30 });
const currentStep = () => Math.floor(Date.now() / 30_000);

for (const engine of engines()) {
  describe(`two-factor login in Chromium (${engine})`, () => {
    let server: TestServer;
    let app: ClientApp;
    let browser: Browser;

    before(async () => {
      [server, app, browser] = await Promise.all([
        startTestServer(engine, { throttle: { identityLimit: 3, addressLimit: 1000, windowSeconds: 600, knownAddressSeconds: 86_400 } }),
        startClientApp(),
        launchChromium(),
      ]);
      await server.request('PUT', '/User/ana', { body: USER });
      await server.request('PUT', '/Client/notes', {
        body: { name: 'Clinical Notes', grant_types: ['authorization_code'], auth: { authorization_code: { redirect_uri: app.callback } } },
      });
    });
    after(async () => {
      await browser?.close();
      await Promise.all([app?.close(), server?.close()]);
    });

    let secret = '';
    let usedCode = '';

    /** A new browser signed in with the password, on the code page. */
    async function atCodePage() {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${server.url}/auth/login`);
      await page.getByLabel('Email or user id').fill(USER.email);
      await page.getByLabel('Password').fill(USER.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
      return { context, page };
    }

    test('enrol with the QR page, then sign in to an app with password and code', async () => {
      const enrolling = await browser.newContext();
      let page = await enrolling.newPage();
      await page.goto(`${server.url}/auth/login?return_to=${encodeURIComponent('/auth/two-factor')}`);
      await page.getByLabel('Email or user id').fill(USER.email);
      await page.getByLabel('Password').fill(USER.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Set up two-factor sign-in' }).waitFor();
      assert.equal(await page.getByRole('img', { name: 'QR code for your authenticator app' }).evaluate((img: HTMLImageElement) => img.naturalWidth > 0), true);
      secret = (await page.locator('#secret-key').innerText()).trim();
      const enrolStep = currentStep();
      await page.getByLabel('Code from your authenticator app').fill(codeAt(secret, enrolStep));
      await page.getByRole('button', { name: 'Turn on' }).click();
      await page.locator('#recovery-codes li').first().waitFor();
      assert.equal(await page.locator('#recovery-codes li').count(), 10);
      await enrolling.close();

      const { challenge, verifier } = pkcePair();
      const context = await browser.newContext();
      page = await context.newPage();
      await page.goto(
        `${server.url}/auth/authorize?${new URLSearchParams({ client_id: 'notes', response_type: 'code', redirect_uri: app.callback, scope: 'openid', state: 's-2fa', code_challenge: challenge, code_challenge_method: 'S256' })}`,
      );
      await page.getByLabel('Email or user id').fill(USER.email);
      await page.getByLabel('Password').fill(USER.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
      await page.getByLabel('Code from your authenticator app').fill('000000' === codeAt(secret, enrolStep + 1) ? '111111' : '000000');
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('alert').waitFor();
      usedCode = codeAt(secret, enrolStep + 1);
      await page.getByLabel('Code from your authenticator app').fill(usedCode);
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((url) => url.href.startsWith(app.callback));
      const code = new URL(page.url()).searchParams.get('code')!;
      const token = await fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: 'notes', redirect_uri: app.callback, code_verifier: verifier }),
      });
      assert.equal(token.status, 200);
      await context.close();
    });

    test('the same code typed again in another browser is refused, and nobody is signed in', async () => {
      const { context, page } = await atCodePage();
      await page.getByLabel('Code from your authenticator app').fill(usedCode);
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('alert').filter({ hasText: 'used already' }).waitFor();
      assert.ok(!(await context.cookies(server.url)).some((cookie) => cookie.name === 'warden_session'));
      await context.close();
    });

    test('wrong codes are throttled: within three, the page says to wait, and then even the right code waits', async () => {
      const { context, page } = await atCodePage();
      const alert = page.getByRole('alert');
      // The replay above counted as a failure too, so the limit of 3 may come before the third wrong code here.
      let wrongShown = 0;
      for (let attempt = 0; attempt < 4; attempt++) {
        const code = codeAt(secret, currentStep()) === '000000' ? '999999' : '000000';
        await page.getByLabel('Code from your authenticator app').fill(code);
        await page.getByRole('button', { name: 'Verify' }).click();
        await alert.filter({ hasText: /not right|Too many/ }).waitFor();
        if (/Too many/.test(await alert.innerText())) break;
        wrongShown++;
      }
      assert.ok(wrongShown >= 1 && wrongShown <= 3, `${wrongShown} wrong codes answered before the throttle`);
      await page.getByLabel('Code from your authenticator app').fill(codeAt(secret, currentStep() + 1));
      await page.getByRole('button', { name: 'Verify' }).click();
      await alert.filter({ hasText: 'Too many failed sign-in attempts' }).waitFor();
      assert.ok(!(await context.cookies(server.url)).some((cookie) => cookie.name === 'warden_session'));
      await context.close();
    });
  });
}
