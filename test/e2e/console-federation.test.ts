// The console's identity-provider page and two-factor reset, in headless Chromium: an administrator registers an
// IdentityProvider through the form (its secret stored sealed), starts a test sign-in, and resets a user's
// two-factor sign-in.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { SCRIPTED_CLIENT, startScriptedIdp, type ScriptedIdp } from '../federation/scripted-idp.ts';
import { launchChromium } from './browser-harness.ts';

const ADMIN_PASSWORD = 'console-admin-password-42';

for (const engine of engines()) {
  describe(`console: identity providers and two-factor (${engine})`, () => {
    let server: TestServer;
    let idp: ScriptedIdp;
    let browser: Browser;
    let page: Page;

    before(async () => {
      [server, idp, browser] = await Promise.all([startTestServer(engine, { adminPassword: ADMIN_PASSWORD }), startScriptedIdp(), launchChromium()]);
      await server.request('PUT', '/User/otto', { body: { email: 'otto@example.com', twoFactor: { enabled: true, secretKey: 'JBSWY3DPEHPK3PXPJBSWY3DP' } } });
      page = await (await browser.newContext()).newPage();
      page.setDefaultTimeout(15_000);
      await page.goto(`${server.url}/console/`);
      await page.waitForSelector('#username');
      await page.fill('#username', 'admin');
      await page.fill('#password', ADMIN_PASSWORD);
      await page.click('button[type=submit]');
      await page.waitForURL(/\/console\/clients/);
    });
    after(async () => {
      await browser?.close();
      await Promise.all([server?.close(), idp?.close()]);
    });

    test('registers an identity provider through the form, its secret sealed, and starts a test sign-in', async () => {
      await page.click('nav a[href="/console/identity-providers"]');
      await page.locator('main h1', { hasText: 'Identity providers' }).waitFor();
      await page.click('text=New identity provider');
      await page.fill('input[name=id]', 'scripted');
      await page.fill('input[name=title]', 'Scripted IdP');
      await page.fill('input[name=issuer]', idp.issuer);
      await page.fill('input[name=client_id]', SCRIPTED_CLIENT.id);
      await page.fill('input[name=client_secret]', SCRIPTED_CLIENT.secret);
      await page.click('form button[type=submit]');
      await page.locator('main h1', { hasText: 'Identity provider scripted' }).waitFor();
      const stored = (await server.request('GET', '/IdentityProvider/scripted')).body;
      assert.equal(stored.issuer, idp.issuer);
      assert.match(stored.client.secret, /^sealed:v1:/);

      const [popup] = await Promise.all([page.context().waitForEvent('page'), page.click('text=Test sign-in')]);
      await popup.waitForURL((url) => url.href.startsWith(`${idp.issuer}/authorize`));
      const authorize = new URL(popup.url());
      assert.equal(authorize.searchParams.get('client_id'), SCRIPTED_CLIENT.id);
      assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
      await popup.close();
    });

    test('shows a user\'s two-factor status and lets the administrator reset it', async () => {
      await page.goto(`${server.url}/console/users/otto`);
      await page.locator('#two-factor-status', { hasText: 'on' }).waitFor();
      page.once('dialog', (dialog) => void dialog.accept());
      await page.click('text=Reset two-factor');
      await page.locator('#two-factor-status', { hasText: 'off' }).waitFor();
      assert.deepEqual((await server.request('GET', '/User/otto')).body.twoFactor, { enabled: false }, 'the key is gone too');
    });
  });
}
