// Two-factor login in headless Chromium: enrol from the settings page (QR code and key, confirm with a code),
// then sign in to an application with password and code, codes computed here as an authenticator app would.
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
      [server, app, browser] = await Promise.all([startTestServer(engine), startClientApp(), launchChromium()]);
      await server.request('PUT', '/User/ana', { body: USER });
      await server.request('PUT', '/Client/notes', {
        body: { name: 'Clinical Notes', grant_types: ['authorization_code'], auth: { authorization_code: { redirect_uri: app.callback } } },
      });
    });
    after(async () => {
      await browser?.close();
      await Promise.all([app?.close(), server?.close()]);
    });

    test('enrol with the QR page, then sign in to an app with password and code', async () => {
      const enrolling = await browser.newContext();
      let page = await enrolling.newPage();
      await page.goto(`${server.url}/auth/login?return_to=${encodeURIComponent('/auth/two-factor')}`);
      await page.getByLabel('Email or user id').fill(USER.email);
      await page.getByLabel('Password').fill(USER.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Set up two-factor sign-in' }).waitFor();
      assert.equal(await page.getByRole('img', { name: 'QR code for your authenticator app' }).evaluate((img: HTMLImageElement) => img.naturalWidth > 0), true);
      const secret = (await page.locator('#secret-key').innerText()).trim();
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
      await page.getByLabel('Code from your authenticator app').fill(codeAt(secret, enrolStep + 1));
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
  });
}
