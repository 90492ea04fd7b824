// The console as a newcomer meets it, in Chromium: a reload keeps the same Session; a SMART app registered in
// the form works at once; a taken id, the clients Warden manages, the PKCE default and the Sessions list all
// explain themselves in the console's words, naming things by their names.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { postForm } from '../helpers/oauth.ts';
import { engines, ROOT, startTestServer, type TestServer } from '../helpers/server.ts';
import { launchChromium } from './browser-harness.ts';

const ADMIN_PASSWORD = 'papercut-admin-password-1';

for (const engine of engines()) {
  describe(`console papercuts in Chromium (${engine})`, () => {
    let server: TestServer;
    let browser: Browser;
    let page: Page;

    /** The console's Sessions for its administrator that are still live. */
    async function consoleSessions(): Promise<string[]> {
      const bundle = await server.request('GET', '/Session?_count=1000');
      return (bundle.body.entry ?? [])
        .map((entry: { resource: { id: string; client?: { id?: string } } }) => entry.resource)
        .filter((session: { client?: { id?: string } }) => session.client?.id === 'warden-console')
        .map((session: { id: string }) => session.id);
    }

    const open = async (path: string, heading: string | RegExp) => {
      await page.goto(`${server.url}${path}`);
      await page.locator('main h1', { hasText: heading }).first().waitFor();
    };

    /** Fills the flow's form and submits it; the caller handles what follows (secret dialog, errors). */
    async function submitClientForm(flow: string, fields: Record<string, string>, uncheck: string[] = []) {
      await open(`/console/clients/new?flow=${flow}`, 'New client');
      for (const [name, value] of Object.entries(fields)) await page.fill(`[name=${name}]`, value);
      for (const name of uncheck) await page.uncheck(`input[name=${name}]`);
      await page.click('form button[type=submit]');
    }

    before(async () => {
      server = await startTestServer(engine, { adminPassword: ADMIN_PASSWORD });
      browser = await launchChromium();
      page = await (await browser.newContext()).newPage();
      page.setDefaultTimeout(20_000);
      await page.goto(`${server.url}/console/`);
      await page.waitForSelector('#username');
      await page.fill('#username', server.config.adminUser);
      await page.fill('#password', ADMIN_PASSWORD);
      await page.click('button[type=submit]');
      await page.waitForURL(`${server.url}/console/clients`);
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('a reload signs in again silently and continues the same Session instead of making a new one', async () => {
      const before = await consoleSessions();
      assert.equal(before.length, 1);
      for (let reload = 0; reload < 2; reload++) {
        await page.reload();
        await page.locator('main h1', { hasText: 'Clients' }).waitFor();
        assert.equal(await page.getByTestId('whoami').textContent(), server.config.adminUser);
      }
      assert.deepEqual(await consoleSessions(), before);
    });

    test('a SMART app registered through the form gets the smart-on-fhir policy it needs, and the toast names it', async () => {
      await submitClientForm('smart', { id: 'chart-app', name: 'Growth chart', redirect_uri: 'https://chart.example.org/cb', scope: 'launch/patient patient/*.rs' });
      await page.waitForURL(`${server.url}/console/clients/chart-app`);
      const toast = await page.locator('.toast').first().textContent();
      assert.match(toast ?? '', /Growth chart \(chart-app\) registered, with policy smart-chart-app/);
      const policy = await server.request('GET', '/AccessPolicy/smart-chart-app');
      assert.equal(policy.status, 200, policy.text);
      assert.equal(policy.body.engine, 'smart-on-fhir');
      assert.deepEqual(policy.body.link, [{ resourceType: 'Client', id: 'chart-app' }]);
      assert.equal(await page.getByTestId('smart-policy-missing').count(), 0);
    });

    test('a SMART app without a smart-on-fhir policy says so on its page, and one click makes it', async () => {
      const put = await server.request('PUT', '/Client/bare-smart', { body: { resourceType: 'Client', type: 'smart-app', smart: {}, grant_types: ['authorization_code'] } });
      assert.ok(put.status < 300, put.text);
      await open('/console/clients/bare-smart', 'Client bare-smart');
      const notice = page.getByTestId('smart-policy-missing');
      assert.match((await notice.textContent()) ?? '', /403/);
      await notice.getByRole('button').click();
      await page.locator('.toast', { hasText: 'Policy smart-bare-smart made' }).waitFor();
      assert.equal((await server.request('GET', '/AccessPolicy/smart-bare-smart')).body.engine, 'smart-on-fhir');
    });

    test('an id already taken is said in the console\'s words, with a link that opens the client', async () => {
      await submitClientForm('spa', { id: 'chart-app', redirect_uri: 'https://spa.example.org/cb' });
      const taken = page.getByTestId('id-taken');
      await taken.waitFor();
      const text = (await taken.textContent()) ?? '';
      assert.match(text, /A client with the id "chart-app" exists already: open it/);
      assert.doesNotMatch(text, /PUT/);
      await taken.getByRole('link', { name: 'open it' }).click();
      await page.waitForURL(`${server.url}/console/clients/chart-app`);
    });

    test('the root client and warden-console offer neither delete nor rotation, and say why', async () => {
      for (const [id, reason] of [[ROOT.id, /WARDEN_ROOT_CLIENT_SECRET/], ['warden-console', /console signs in with this client/]] as const) {
        await open(`/console/clients/${id}`, `Client ${id}`);
        assert.match((await page.getByTestId('managed-client').textContent()) ?? '', reason);
        assert.equal(await page.getByTestId('rotate-secret').count(), 0);
        assert.equal(await page.getByRole('button', { name: 'Delete' }).count(), 0);
      }
      await open('/console/clients/chart-app', 'Client chart-app');
      assert.equal(await page.getByTestId('managed-client').count(), 0);
      assert.equal(await page.getByRole('button', { name: 'Delete' }).count(), 1);
    });

    test('the web-app form explains the PKCE default, and a confidential web app may turn it off', async () => {
      await open('/console/clients/new?flow=web', 'New client');
      assert.match((await page.locator('input[name=pkce]').locator('xpath=ancestor::*[contains(@class, "field") or self::label][1]/..').textContent()) ?? '', /On by default/);
      await submitClientForm('web', { id: 'legacy-portal', redirect_uri: 'https://portal.example.org/cb' }, ['pkce']);
      await page.getByTestId('secret-done').click();
      await page.waitForURL(`${server.url}/console/clients/legacy-portal`);
      const stored = await server.request('GET', '/Client/legacy-portal');
      assert.equal(stored.body.auth.authorization_code.pkce, false);
      assert.equal(stored.body.auth.authorization_code.secret_required, true);
    });

    test('Sessions list newest first with client and user, and filter by either as you type', async () => {
      const service = await server.request('PUT', '/Client/nightly', { body: { resourceType: 'Client', secret: 'nightly-secret', grant_types: ['client_credentials'] } });
      assert.ok(service.status < 300, service.text);
      assert.equal((await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, { id: 'nightly', secret: 'nightly-secret' })).status, 200);
      await open('/console/sessions', 'Sessions');
      const firstRowClient = await page.locator('tbody tr').first().locator('td').nth(2).textContent();
      assert.equal(firstRowClient, 'nightly', 'the newest session comes first');
      await page.getByTestId('session-filter').fill(server.config.adminUser);
      const rows = page.locator('tbody tr');
      assert.ok((await rows.count()) >= 1);
      for (const text of await rows.allTextContents()) assert.match(text, new RegExp(server.config.adminUser));
      await page.getByTestId('session-filter').fill('nightly');
      assert.equal(await rows.count(), 1);
    });
  });
}
