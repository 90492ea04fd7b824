// The console's Events view in a real headless Chromium: the audit trail newest first, filtered by user, client,
// patient, kind and outcome, and the recent events on a Client's and a User's page. The events are made the way
// they are in use: a Basic client reads, another is refused, a user gets a token and reads through an app.
// With WARDEN_CONSOLE_SCREENSHOTS=<folder> it saves a screenshot of the view (docs/screenshots/).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { basic, engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { restEvent } from '../../src/audit/event.ts';
import { launchChromium } from './browser-harness.ts';

const ADMIN_PASSWORD = 'events-admin-password-42';
const SCREENSHOTS = process.env.WARDEN_CONSOLE_SCREENSHOTS;
const READER = { id: 'reader', secret: 'reader-secret-0123456789' };
const INTRUDER = { id: 'intruder', secret: 'intruder-secret-0123456789' };
const APP = { id: 'ward-app', secret: 'ward-app-secret-0123456789' };
const NURSE = { id: 'nurse', email: 'nurse@example.com', password: 'nurse password long enough' };

interface Row {
  when: string;
  what: string;
  on: string;
  patient: string;
  user: string;
  client: string;
  outcome: string;
}

for (const engine of engines()) {
  describe(`console Events view in Chromium (${engine})`, () => {
    let server: TestServer;
    let browser: Browser;
    let page: Page;

    const as = (who: { id: string; secret: string }, path: string) => server.request('GET', path, { auth: null, headers: { authorization: basic(who.id, who.secret) } });
    const heading = (title: string | RegExp) => page.locator('main h1', { hasText: title }).first().waitFor();

    /** The rows of the events table inside `scope`, as shown (the When column as its full timestamp). */
    async function rowsIn(scope: string): Promise<Row[]> {
      // Plain expressions only in the page: tsx would wrap a named function in a helper the page does not have.
      const cells = await page.locator(`${scope} table tbody tr`).evaluateAll((trs) =>
        trs.map((tr) => [tr.querySelector('td span')?.getAttribute('title') ?? '', ...[...tr.querySelectorAll('td')].slice(1).map((td) => (td.textContent ?? '').trim())]),
      );
      return cells.map(([when, outcome, what, on, patient, user, client]) => ({ when, what, on, patient, user, client, outcome }));
    }

    /** Changes a filter as a person would and waits until the table drawn for it replaces the old one. */
    async function filter(name: 'user' | 'client' | 'patient' | 'type' | 'outcome', value: string): Promise<Row[]> {
      await page.locator('[data-testid=events] > *').evaluate((shown) => shown.setAttribute('data-stale', ''));
      const field = page.getByTestId(`event-filter-${name}`);
      if (name === 'type' || name === 'outcome') await field.selectOption(value);
      else {
        await field.fill(value);
        await field.press('Enter');
      }
      await page.locator('[data-testid=events] > :not([data-stale])').waitFor();
      return rowsIn('[data-testid=events]');
    }

    const newestFirst = (rows: Row[]) => {
      for (let index = 1; index < rows.length; index++) {
        assert.ok(rows[index - 1].when >= rows[index].when, `row ${index} (${rows[index].when}) is newer than the row above it (${rows[index - 1].when})`);
      }
    };

    before(async () => {
      server = await startTestServer(engine, { adminPassword: ADMIN_PASSWORD });
      for (const id of ['pt-a', 'pt-b']) await server.request('PUT', `/Patient/${id}`, { body: { resourceType: 'Patient', name: [{ family: id }] } });
      await server.request('PUT', `/Client/${READER.id}`, { body: { secret: READER.secret, grant_types: ['basic'] } });
      await server.request('PUT', `/Client/${INTRUDER.id}`, { body: { secret: INTRUDER.secret, grant_types: ['basic'] } });
      await server.request('PUT', `/Client/${APP.id}`, { body: { secret: APP.secret, grant_types: ['password'] } });
      await server.request('PUT', '/User/nurse', { body: NURSE });
      await server.request('PUT', '/AccessPolicy/reader-reads', { body: { engine: 'matcho', link: [{ reference: `Client/${READER.id}` }], matcho: { 'request-method': 'get' } } });
      await server.request('PUT', '/AccessPolicy/nurse-reads', { body: { engine: 'matcho', matcho: { user: { id: NURSE.id }, 'request-method': 'get' } } });

      // The events, one after the other: their order is known.
      assert.equal((await as(READER, '/Patient/pt-a')).status, 200);
      assert.equal((await as(INTRUDER, '/Patient/pt-b')).status, 403);
      const token = await fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(APP.id, APP.secret) },
        body: new URLSearchParams({ grant_type: 'password', username: NURSE.email, password: NURSE.password }),
      });
      assert.equal(token.status, 200);
      const { access_token } = (await token.json()) as { access_token: string };
      const asNurse = () => server.request('GET', '/Patient/pt-b', { auth: null, headers: { authorization: `Bearer ${access_token}` } });
      assert.equal((await asNurse()).status, 200);
      // A burst of reads, written in one batch whose events share their store time (meta.lastUpdated): the view
      // must still order them by when they happened.
      for (const response of await Promise.all(Array.from({ length: 12 }, asNurse))) assert.equal(response.status, 200);
      assert.equal((await as(READER, '/Patient/pt-b')).status, 200);
      // Events queued together are written in one batch and share their store time (meta.lastUpdated): the view
      // must still order them by when they happened (recorded), not by the order of their random ids.
      const base = Date.now();
      await server.app.audit.record([3, 0, 5, 1, 4, 2].map((second) =>
        restEvent({ interaction: 'read', type: 'Patient', id: 'pt-c', versionId: '1', patients: ['pt-c'], outcome: '0' }, { clientId: 'importer' }, new Date(base - second * 1000))));
      await server.app.audit.flush();
      const batch = await server.request('GET', '/AuditEvent?agent=Client/importer&_count=100');
      assert.equal(new Set(batch.body.entry.map((entry: { resource: { meta: { lastUpdated: string } } }) => entry.resource.meta.lastUpdated)).size, 1, 'one batch');

      browser = await launchChromium();
      page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', timezoneId: 'UTC' })).newPage();
      page.setDefaultTimeout(20_000);
      await page.goto(`${server.url}/console/`);
      await page.waitForSelector('#username');
      await page.fill('#username', server.config.adminUser);
      await page.fill('#password', ADMIN_PASSWORD);
      await page.click('button[type=submit]');
      await heading('Clients');
      // The console's own login is an event too.
      await server.app.audit.flush();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('the Events view lists the trail newest first', async () => {
      await page.click('nav a[href="/console/events"]');
      await heading('Events');
      await page.locator('[data-testid=events] table').waitFor();
      const rows = await rowsIn('[data-testid=events]');
      assert.ok(rows.length > 20, `${rows.length} rows`);
      newestFirst(rows);
      if (SCREENSHOTS && engine === 'pglite') {
        mkdirSync(SCREENSHOTS, { recursive: true });
        await page.screenshot({ path: join(SCREENSHOTS, 'console-events.png') });
      }
    });

    test('filtered by patient: every event about that Patient, the refusal included, newest first', async () => {
      const rows = await filter('patient', 'pt-b');
      newestFirst(rows);
      assert.ok(rows.every((row) => row.patient.includes('Patient/pt-b')), JSON.stringify(rows));
      // Setup wrote pt-b (root), the intruder was refused, the nurse read it through the app 13 times, then the reader.
      const clients = rows.map((row) => row.client).filter((client) => client !== 'warden-console');
      assert.deepEqual(clients, [READER.id, ...Array(13).fill(APP.id), INTRUDER.id, 'root']);
      const nurseRow = rows.find((row) => row.client === APP.id)!;
      assert.equal(nurseRow.user, NURSE.id);
      assert.equal(nurseRow.outcome, 'success');
      assert.equal(rows.find((row) => row.client === INTRUDER.id)!.outcome, 'refused');
      await filter('patient', '');
    });

    test('filtered by client: only that client\'s events', async () => {
      const rows = await filter('client', INTRUDER.id);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].outcome, 'refused');
      assert.match(rows[0].what, /Security Alert/);
      assert.match(rows[0].on, /Patient\/pt-b/);
      const reader = await filter('client', READER.id);
      assert.deepEqual(reader.map((row) => [row.client, row.patient, row.outcome]), [
        [READER.id, 'Patient/pt-b', 'success'],
        [READER.id, 'Patient/pt-a', 'success'],
      ]);
    });

    test('filters combine: a client and a patient', async () => {
      const rows = await filter('patient', 'pt-a');
      assert.equal(rows.length, 1, JSON.stringify(rows));
      assert.equal(rows[0].client, READER.id);
      await filter('patient', '');
      await filter('client', '');
    });

    test('filtered by user: the user\'s token and reads, through the app', async () => {
      const rows = await filter('user', NURSE.id);
      assert.equal(rows.length, 14, 'the token and 13 reads');
      newestFirst(rows);
      assert.ok(rows.every((row) => row.user === NURSE.id && row.client === APP.id));
      assert.ok(rows.some((row) => row.patient.includes('Patient/pt-b')), 'the read of pt-b');
      assert.ok(rows.some((row) => /ITI-71|Access Token/i.test(row.what)), `the token issued: ${rows.map((row) => row.what).join(' | ')}`);
      await filter('user', '');
    });

    test('filtered by kind: refusals, logins, data access', async () => {
      const alerts = await filter('type', '110113');
      assert.ok(alerts.length >= 1);
      assert.ok(alerts.every((row) => /Security Alert/.test(row.what)));
      assert.ok(alerts.some((row) => row.client === INTRUDER.id));
      const logins = await filter('type', '110114');
      assert.ok(logins.some((row) => row.user === server.config.adminUser && /Login/.test(row.what)), JSON.stringify(logins));
      assert.ok(logins.every((row) => /User Authentication/.test(row.what)));
      const rest = await filter('type', 'rest');
      assert.ok(rest.some((row) => row.client === READER.id));
      assert.ok(rest.every((row) => !/Security Alert|User Authentication/.test(row.what)));
      await filter('type', '');
    });

    test('filtered by outcome: refused, and success', async () => {
      const refused = await filter('outcome', '4');
      assert.ok(refused.length >= 1);
      assert.ok(refused.every((row) => row.outcome === 'refused'));
      assert.ok(refused.some((row) => row.client === INTRUDER.id));
      const success = await filter('outcome', '0');
      assert.ok(success.every((row) => row.outcome === 'success'));
      assert.ok(!success.some((row) => row.client === INTRUDER.id));
      await filter('outcome', '');
    });

    test('a Client\'s page shows its recent events, with a link to all of them', async () => {
      await page.goto(`${server.url}/console/clients/${READER.id}`);
      const recent = page.getByTestId('recent-events');
      await recent.locator('table').waitFor();
      const rows = await rowsIn('[data-testid=recent-events]');
      assert.deepEqual(rows.map((row) => [row.client, row.patient]), [[READER.id, 'Patient/pt-b'], [READER.id, 'Patient/pt-a']]);
      await recent.getByRole('link', { name: 'All events' }).click();
      await heading('Events');
      assert.equal(await page.getByTestId('event-filter-client').inputValue(), READER.id);
      await page.locator('[data-testid=events] table').waitFor();
      assert.equal((await rowsIn('[data-testid=events]')).length, 2);
    });

    test('a User\'s page shows their ten latest events, newest first', async () => {
      await page.goto(`${server.url}/console/users/${NURSE.id}`);
      const recent = page.getByTestId('recent-events');
      await recent.locator('table').waitFor();
      const rows = await rowsIn('[data-testid=recent-events]');
      assert.equal(rows.length, 10);
      newestFirst(rows);
      assert.ok(rows.every((row) => row.user === NURSE.id && row.patient === 'Patient/pt-b'));
    });
  });
}
