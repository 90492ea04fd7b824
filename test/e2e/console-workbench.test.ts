// The console's REST console and resource browser in a real headless Chromium. An administrator types the
// seed's Basic-auth walk-through (001: PUT Client/basic, PUT AccessPolicy/basic-policy, GET /Patient as that
// client) into the REST console, then browses a Patient's history with a diff, edits it and deletes it.
// With WARDEN_CONSOLE_SCREENSHOTS=<folder> it saves screenshots at 1280×800 and on a narrow window.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { launchChromium } from './browser-harness.ts';

const ADMIN_PASSWORD = 'workbench-admin-password-42';
const SCREENSHOTS = process.env.WARDEN_CONSOLE_SCREENSHOTS;
const WIDE = { width: 1280, height: 800 };
const NARROW = { width: 390, height: 844 };

for (const engine of engines()) {
  describe(`console REST console and resource browser in Chromium (${engine})`, () => {
    let server: TestServer;
    let browser: Browser;
    let page: Page;
    /** Every Authorization header the page sent, to prove the console's token never reaches copied text. */
    const sentAuthorizations = new Set<string>();
    /** Cookie headers the page sent to the API (not to /auth or /console): there must be none. */
    const apiCookies: string[] = [];

    const shot = async (name: string, size: { width: number; height: number } = WIDE) => {
      if (!SCREENSHOTS || engine !== 'pglite') return;
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.setViewportSize(size);
      await page.evaluate(() => document.getElementById('toasts')?.replaceChildren());
      await page.screenshot({ path: join(SCREENSHOTS, `console-${name}.png`), fullPage: size === NARROW });
      await page.setViewportSize(WIDE);
    };
    const heading = (title: string | RegExp) => page.locator('main h1', { hasText: title }).first().waitFor();
    /** The Resources page counts every type of the CapabilityStatement first (~150 searches): slow on a loaded machine. */
    const resourcesHeading = () => page.locator('main h1', { hasText: 'Resources' }).first().waitFor({ timeout: 90_000 });
    const editor = () => page.getByTestId('rest-request');
    const status = () => page.getByTestId('rest-status');
    /** Types a request as a person would and sends it with Ctrl+Enter; returns the status line shown. */
    const sendTyped = async (text: string): Promise<string> => {
      await editor().fill('');
      await editor().pressSequentially(text);
      return sendShown();
    };
    const sendShown = async (from = editor()): Promise<string> => {
      const before = await page.getByTestId('rest-history').locator('li button').count();
      await from.press('Control+Enter');
      await page.waitForFunction((count) => document.querySelectorAll('[data-testid=rest-history] li button').length > count, before);
      return (await status().textContent())!.trim();
    };
    const chooseSender = async (kind: string, id?: string, secret?: string) => {
      await page.selectOption('select[name=sender]', kind);
      if (id !== undefined) await page.fill('input[name=basic-id]', id);
      if (secret !== undefined) await page.fill('input[name=basic-secret]', secret);
    };

    before(async () => {
      server = await startTestServer(engine, { adminPassword: ADMIN_PASSWORD });
      await server.request('PUT', '/Patient/pt-1', { body: { resourceType: 'Patient', name: [{ family: 'Chalmers', given: ['Peter'] }], gender: 'male' } });
      await server.request('PUT', '/Patient/pt-1', { body: { resourceType: 'Patient', name: [{ family: 'Chalmers', given: ['Peter', 'James'] }], gender: 'male' } });
      await server.request('PUT', '/Patient/pt-1', { body: { resourceType: 'Patient', name: [{ family: 'Windsor', given: ['Peter', 'James'] }], gender: 'male', birthDate: '1974-12-25' } });
      browser = await launchChromium();
      const context = await browser.newContext({ viewport: WIDE, locale: 'en-US', timezoneId: 'UTC' });
      page = await context.newPage();
      page.setDefaultTimeout(20_000);
      page.on('request', (request) => {
        const authorization = request.headers().authorization;
        if (authorization) sentAuthorizations.add(authorization);
        const path = new URL(request.url()).pathname;
        if (!path.startsWith('/auth/') && !path.startsWith('/console')) {
          void request.allHeaders().then((headers) => { if (headers.cookie) apiCookies.push(headers.cookie); });
        }
      });
      await page.goto(`${server.url}/console/`);
      await page.waitForSelector('#username');
      await page.fill('#username', server.config.adminUser);
      await page.fill('#password', ADMIN_PASSWORD);
      await page.click('button[type=submit]');
      await heading('Clients');
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('the seed\'s PUT Client/basic, typed into the REST console and sent with Ctrl+Enter, creates the Client', async () => {
      await page.click('nav a[href="/console/rest"]');
      await heading('REST console');
      assert.equal(await page.locator('select[name=sender]').inputValue(), 'console');
      assert.equal(await sendTyped('PUT /Client/basic\n\nsecret: secret\ngrant_types:\n  - basic\n'), '201 Created');
      assert.match((await page.getByTestId('rest-body').textContent())!, /id: basic/);
      assert.match((await page.getByTestId('rest-time').textContent())!, /^\d+ ms$/);
      await page.locator('details.answer-headers summary').click();
      const headerNames = await page.locator('details.answer-headers th').allTextContents();
      assert.ok(headerNames.includes('content-type') && headerNames.includes('etag'), headerNames.join(', '));
      const stored = await server.request('GET', '/Client/basic');
      assert.deepEqual(stored.body.grant_types, ['basic']);
      assert.match(stored.body.secret, /^\$s0\$/, 'stored hashed, as any write through the API');
    });

    test('before its policy, GET /Patient as Client basic (Basic auth) is denied: the console lends no powers', async () => {
      await chooseSender('basic', 'basic', 'secret');
      assert.equal(await sendTyped('GET /Patient'), '403 Forbidden');
      await chooseSender('basic', 'basic', 'not-the-secret');
      assert.equal(await sendShown(page.locator('input[name=basic-secret]')), '401 Unauthorized', 'Ctrl+Enter sends from the secret field too');
    });

    test('the seed\'s AccessPolicy, one click away among the examples, lets Client basic read Patients', async () => {
      await page.getByTestId('rest-examples').locator('button', { hasText: 'PUT AccessPolicy/basic-policy' }).click();
      assert.equal(await page.locator('select[name=sender]').inputValue(), 'console', 'the example is sent as the admin');
      assert.match(await editor().inputValue(), /^PUT \/AccessPolicy\/basic-policy\n/);
      assert.equal(await sendShown(), '201 Created');

      await page.getByTestId('rest-examples').locator('button', { hasText: 'GET /Patient as Client basic' }).click();
      assert.equal(await page.locator('input[name=basic-id]').inputValue(), 'basic');
      assert.equal(await sendShown(), '200 OK');
      const body = (await page.getByTestId('rest-body').textContent())!;
      assert.match(body, /resourceType: Bundle/);
      assert.match(body, /family: Windsor/);
      await page.getByRole('button', { name: 'JSON', exact: true }).first().click();
      assert.match((await page.getByTestId('rest-body').textContent())!, /"resourceType": "Bundle"/);
      await page.getByRole('button', { name: 'YAML', exact: true }).first().click();
      await shot('rest-console');
      await shot('rest-console-narrow', NARROW);

      assert.equal(await sendTyped('POST /Patient\n\nresourceType: Patient\n'), '403 Forbidden', 'the policy allows reads only');
    });

    test('the history lists what was sent, newest first, and brings a request back with its sender', async () => {
      const lines = await page.getByTestId('rest-history').locator('.history-line').allTextContents();
      assert.deepEqual(lines, ['POST /Patient', 'GET /Patient', 'PUT /AccessPolicy/basic-policy', 'GET /Patient', 'GET /Patient', 'PUT /Client/basic']);
      await page.getByTestId('rest-history').locator('button', { hasText: 'PUT /Client/basic' }).click();
      assert.match(await editor().inputValue(), /^PUT \/Client\/basic\n/);
      assert.equal(await page.locator('select[name=sender]').inputValue(), 'console');
    });

    test('the seed\'s client-credentials flow: the token it gets, pasted, shows what that client may do', async () => {
      const examples = page.getByTestId('rest-examples');
      await examples.locator('button', { hasText: 'PUT Client/api-consumer' }).click();
      assert.equal(await sendShown(), '201 Created');
      await examples.locator('button', { hasText: 'POST /auth/token' }).first().click();
      assert.equal(await page.locator('select[name=sender]').inputValue(), 'none', 'the client authenticates in the body');
      assert.equal(await sendShown(), '200 OK');
      const token = /access_token: (\S+)/.exec((await page.getByTestId('rest-body').textContent())!)?.[1];
      assert.ok(token, 'the answer shows the access token');

      await page.selectOption('select[name=sender]', 'token');
      await page.fill('input[name=pasted-token]', token);
      await editor().fill('GET /Patient\n');
      assert.equal(await sendShown(), '403 Forbidden', 'api-consumer has no policy yet');
      assert.ok(sentAuthorizations.has(`Bearer ${token}`), 'sent with the pasted token');
      await page.selectOption('select[name=sender]', 'token');
      await page.fill('input[name=pasted-token]', `${token}x`);
      assert.equal(await sendShown(), '401 Unauthorized');
    });

    test('a mistake in the body is shown at its line before anything is sent', async () => {
      const sent = sentAuthorizations.size;
      await editor().fill('PUT /Patient/pt-2\ncontent-type: text/yaml\n\nresourceType: Patient\nname: [\n');
      const problems = page.getByTestId('rest-problems');
      await problems.locator('.line').first().waitFor();
      assert.match((await problems.textContent())!, /line (5|6)/);
      await editor().press('Control+Enter');
      assert.equal((await server.request('GET', '/Patient/pt-2')).status, 404, 'nothing was sent');
      assert.equal(sentAuthorizations.size, sent);
      await editor().fill('DELETE Patient');
      await page.waitForFunction(() => document.querySelector('[data-testid=rest-problems]')?.textContent?.includes('starts with "/"'));
    });

    test('"copy as curl" never includes the console\'s token', async () => {
      await chooseSender('console');
      await editor().fill('GET /Patient/pt-1\n');
      assert.equal(await sendShown(), '200 OK');
      const consoleTokens = [...sentAuthorizations].filter((value) => value.startsWith('Bearer ')).map((value) => value.slice(7));
      assert.ok(consoleTokens.length > 0, 'the console sent its own token');
      await page.getByTestId('rest-curl-button').click();
      const curl = (await page.getByTestId('rest-curl').textContent())!;
      assert.match(curl, /^curl -X GET 'http:\/\/127\.0\.0\.1:\d+\/Patient\/pt-1'/);
      assert.match(curl, /Authorization: Bearer \$WARDEN_TOKEN/);
      for (const token of consoleTokens) assert.ok(!curl.includes(token), 'the token is not in the command');
      await page.click('dialog button:has-text("Close")');

      await chooseSender('basic', 'basic', 'secret');
      await page.getByTestId('rest-curl-button').click();
      assert.match((await page.getByTestId('rest-curl').textContent())!, /-u 'basic:secret'/);
      await page.click('dialog button:has-text("Close")');
    });

    test('sent as nobody, a request is anonymous: the browser\'s Warden session cookie is never sent along', async () => {
      const cookies = await page.context().cookies();
      assert.ok(cookies.some((cookie) => cookie.path === '/'), 'the browser holds a Warden session cookie for every path');
      await chooseSender('none');
      await editor().fill('GET /Patient\n');
      assert.equal(await sendShown(), '401 Unauthorized');
      assert.deepEqual(apiCookies, []);
    });

    test('the resource browser lists the types in use with their counts; IAM types open their own pages', async () => {
      await page.click('nav a[href="/console/resources"]');
      await resourcesHeading();
      assert.equal(await page.getByTestId('count-Patient').textContent(), '1');
      assert.equal(await page.locator('a.type-card[data-type=Client]').getAttribute('href'), '/console/clients');
      assert.equal(await page.locator('a.type-card[data-type=AccessPolicy]').getAttribute('href'), '/console/policies');
      await page.getByTestId('type-filter').fill('pati');
      assert.equal(await page.locator('.type-grid:not(.type-grid-empty) a.type-card:visible').count(), 1);
      await page.getByTestId('type-filter').fill('');
      await shot('resources');
      await shot('resources-narrow', NARROW);
    });

    test('a type is searched with the CapabilityStatement\'s parameters', async () => {
      await server.request('PUT', '/Patient/pt-9', { body: { resourceType: 'Patient', name: [{ family: 'Okafor' }] } });
      await page.click('a.type-card[data-type=Patient]');
      await heading('Patient');
      await page.getByTestId('result-count').filter({ hasText: '2 found' }).waitFor();
      const offered = await page.getByTestId('search-param').locator('option').allTextContents();
      assert.ok(offered.includes('family (string)'), offered.join(', '));
      await page.getByTestId('search-param').selectOption('family');
      assert.equal(await page.getByTestId('search-query').inputValue(), 'family=');
      await page.getByTestId('search-query').fill('family=windsor');
      await page.getByTestId('search-query').press('Enter');
      await page.waitForURL(/\/console\/resources\/Patient\?family=windsor$/);
      await page.getByTestId('result-count').filter({ hasText: '1 found' }).waitFor();
      assert.deepEqual(await page.locator('main table tbody td:first-child').allTextContents(), ['pt-1']);
      await shot('resource-search');
    });

    test('a search is paged with the Bundle\'s links', async () => {
      await page.getByTestId('search-query').fill('_count=1&_sort=_id');
      await page.getByTestId('search-query').press('Enter');
      await page.getByTestId('result-count').filter({ hasText: '2 found · page 1' }).waitFor();
      assert.deepEqual(await page.locator('main table tbody td:first-child').allTextContents(), ['pt-1']);
      await page.getByTestId('page-next').click();
      await page.getByTestId('result-count').filter({ hasText: '2 found · page 2' }).waitFor();
      assert.deepEqual(await page.locator('main table tbody td:first-child').allTextContents(), ['pt-9']);
      assert.equal(await page.getByTestId('page-next').count(), 0, 'no page after the last');
      await page.getByTestId('page-previous').click();
      await page.getByTestId('result-count').filter({ hasText: '2 found · page 1' }).waitFor();
      await page.click('main nav.crumbs a:has-text("Resources")');
      await resourcesHeading();
      await page.click('a.type-card[data-type=Patient]');
      await heading('Patient');
    });

    test('a Patient\'s history shows its versions, and the diff what changed between two of them', async () => {
      await page.click('main a:has-text("pt-1")');
      await heading(/Patient\s*pt-1/);
      assert.match((await page.getByTestId('resource-text').textContent())!, /family: Windsor/);
      assert.equal(await page.locator('#history-title').textContent(), 'History (3)');
      const diff = page.getByTestId('diff');
      // Keys come back in the store's order (jsonb sorts them), so only the changed lines are compared.
      const changed = async (kind: 'added' | 'removed') => (await diff.locator(`.diff-${kind}`).allTextContents()).map((line) => line.replace(/\s+/g, ' ').trim()).sort();
      assert.deepEqual(await changed('removed'), ['- family: Chalmers']);
      assert.deepEqual(await changed('added'), ['+ birthDate: 1974-12-25', '+ family: Windsor']);
      await page.getByTestId('diff-from').selectOption('1');
      await page.getByTestId('diff-to').selectOption('2');
      assert.deepEqual(await changed('added'), ['+ - James']);
      assert.deepEqual(await changed('removed'), []);
      await shot('resource-history');
      await shot('resource-history-narrow', NARROW);
    });

    test('edit: a mistake is shown at its line, and a save sends If-Match on the version read', async () => {
      await page.getByTestId('resource-edit').click();
      const source = page.getByTestId('resource-source');
      const status = page.getByTestId('resource-status');
      await page.getByRole('button', { name: 'JSON', exact: true }).click();
      assert.match(await source.inputValue(), /^\{\n {2}"resourceType": "Patient",\n {2}"id": "pt-1"/, 'the edit switches to JSON, not back to the view');
      await page.getByRole('button', { name: 'YAML', exact: true }).click();
      assert.match(await source.inputValue(), /^resourceType: Patient\nid: pt-1\n/);
      await source.fill('resourceType: Patient\nid: pt-1\nname:\n  - family: [Windsor\n');
      await status.locator('.line').first().waitFor();
      assert.equal(await page.getByTestId('resource-save').isDisabled(), true);
      await source.fill('resourceType: Patient\nid: pt-2\n');
      await status.locator('.line', { hasText: 'line 2' }).waitFor();
      assert.match((await status.textContent())!, /id cannot change/);

      // Someone else changes the Patient after it was opened: the save is refused, not silently lost.
      await server.request('PUT', '/Patient/pt-1', { body: { resourceType: 'Patient', name: [{ family: 'Mountbatten' }] } });
      await source.fill('resourceType: Patient\nid: pt-1\nname:\n  - family: Windsor\n    given: [Charles]\n');
      await page.getByTestId('resource-save').click();
      await page.waitForFunction(() => document.querySelector('[data-testid=resource-status]')?.textContent?.includes('412'));
      assert.match((await status.textContent())!, /reload the page/);
      assert.equal((await server.request('GET', '/Patient/pt-1')).body.name[0].family, 'Mountbatten');
      await shot('resource-edit');

      await page.reload();
      await heading(/Patient\s*pt-1/);
      await page.getByTestId('resource-edit').click();
      await page.getByTestId('resource-source').fill('resourceType: Patient\nid: pt-1\nname:\n  - family: Windsor\n    given: [Charles]\n');
      await page.getByTestId('resource-save').click();
      await page.locator('#history-title', { hasText: 'History (5)' }).waitFor();
      const stored = await server.request('GET', '/Patient/pt-1');
      assert.deepEqual(stored.body.name, [{ family: 'Windsor', given: ['Charles'] }]);
      assert.equal(stored.body.meta.versionId, '5');
    });

    test('delete asks first, then the Patient is gone from reads and searches', async () => {
      await page.getByTestId('resource-delete').click();
      await page.click('dialog button:has-text("Cancel")');
      assert.equal((await server.request('GET', '/Patient/pt-1')).status, 200, 'cancelled: nothing deleted');
      await page.getByTestId('resource-delete').click();
      await page.click('dialog button:has-text("Delete Patient")');
      await page.waitForURL(`${server.url}/console/resources/Patient`);
      await page.getByTestId('result-count').filter({ hasText: '1 found' }).waitFor();
      assert.equal((await server.request('GET', '/Patient/pt-1')).status, 410);

      // Its page still opens, on its history, the deletion included.
      await page.evaluate(() => {
        window.history.pushState(null, '', '/console/resources/Patient/pt-1');
        window.dispatchEvent(new PopStateEvent('popstate'));
      });
      await heading('Patient pt-1');
      await page.locator('main', { hasText: 'is deleted; its history stays' }).waitFor();
      assert.equal(await page.locator('#history-title').textContent(), 'History (6)');
      assert.equal(await page.getByTestId('resource-edit').count(), 0, 'a deleted resource is not edited here');
      await page.click('main nav.crumbs a:has-text("Patient")');
      await heading('Patient');
    });

    test('a new Patient the server refuses shows the server\'s error at the line its expression names', async () => {
      await page.click('main a:has-text("New Patient")');
      await heading('New Patient');
      await page.getByTestId('resource-source').fill('resourceType: Patient\nid: not a valid id!\nname:\n  - family: Nobody\n');
      await page.getByTestId('resource-save').click();
      const status = page.getByTestId('resource-status');
      await status.filter({ hasText: 'HTTP 400' }).waitFor();
      assert.equal(await status.locator('.line').first().textContent(), 'line 2');
      await page.getByTestId('resource-source').fill('resourceType: Patient\nid: pt-new\nname:\n  - family: Somebody\n');
      await page.getByTestId('resource-save').click();
      await heading(/Patient\s*pt-new/);
      assert.equal((await server.request('GET', '/Patient/pt-new')).body.name[0].family, 'Somebody');
    });

    test('"Open in REST console" brings the resource\'s read there; the history outlives moving between pages', async () => {
      await page.click('button:has-text("Open in REST console")');
      await heading('REST console');
      assert.equal(await editor().inputValue(), 'GET /Patient/pt-new\n');
      assert.equal(await page.locator('select[name=sender]').inputValue(), 'console');
      assert.equal(await sendShown(), '200 OK');
      assert.match((await page.getByTestId('rest-body').textContent())!, /family: Somebody/);
      // The history lives in the page's memory: it outlives moving between pages (not a reload, by design).
      await page.click('nav a[href="/console/resources"]');
      await resourcesHeading();
      await page.click('nav a[href="/console/rest"]');
      await heading('REST console');
      assert.equal(await page.getByTestId('rest-history').locator('.history-line').first().textContent(), 'GET /Patient/pt-new');
    });
  });
}
