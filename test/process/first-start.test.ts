// The first start, as a newcomer makes it: a fresh data folder, no settings, the server started as its own
// process. The log says where the console is and how to get in; the console sends the person on this machine to
// the setup page, which makes the first administrator, who then signs in. Until then nobody else is served.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../e2e/browser-harness.ts';
import { spawnServer, type ServerProcess } from '../helpers/process.ts';

/** This machine's address on a network, if it has one: a caller from there is not loopback. */
function networkAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address;
}

/** A GET with a Host header of our choosing (fetch does not let a caller set one). */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).on('error', reject).end();
  });
}

const ADMIN = { id: 'jane.doe', password: 'a long first password' };

describe('first start with no settings', () => {
  let server: ServerProcess;
  let browser: Browser;
  let dataDir: string;
  let port: string;
  const lanAddress = networkAddress();

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'warden-first-start-'));
    // Only where to keep the data and where to listen differ from `npm start`: no root client, no admin password.
    server = await spawnServer({ WARDEN_DATA_DIR: dataDir, WARDEN_ROOT_CLIENT_ID: '', WARDEN_ROOT_CLIENT_SECRET: '', HOST: lanAddress ? '0.0.0.0' : '127.0.0.1' });
    port = new URL(server.url).port;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    server?.child.kill('SIGTERM');
    await server?.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the log says where the console is, how to make the first administrator, and how to get a root client', async () => {
    await server.waitForLine(/warden is ready/);
    const log = server.output();
    assert.match(log, new RegExp(`the admin console is at http://localhost:${port}/console`));
    assert.match(log, new RegExp(`open http://localhost:${port}/console/setup on this machine`));
    assert.match(log, /WARDEN_ROOT_CLIENT_SECRET/);
  });

  test('until an administrator exists, callers that are not on this machine get 503 saying what to do', async () => {
    const forwarded = await fetch(`${server.url}/Patient`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(forwarded.status, 503);
    assert.match(await forwarded.text(), /no administrator.*\/console\/setup/s);
    const rebound = await getWithHost(`${server.url}/console/setup`, `attacker.example:${port}`);
    assert.equal(rebound, 503, 'a DNS-rebinding page is no local caller');
    if (lanAddress) {
      const fromNetwork = await fetch(`http://${lanAddress}:${port}/console/setup`);
      assert.equal(fromNetwork.status, 503);
    }
    assert.equal((await fetch(`${server.url}/health`)).status, 200, 'probes still see the process');
  });

  test('a person on this machine opens /console, creates the administrator, and signs in to the console', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    try {
      await page.goto(`http://localhost:${port}/console`);
      await page.waitForURL(/\/console\/setup$/);
      await page.fill('#username', ADMIN.id);
      await page.fill('#password', ADMIN.password);
      await page.fill('#password_again', 'not the same password');
      await page.click('button[type=submit]');
      assert.match(await page.textContent('[role=alert]') ?? '', /differ/);
      await page.fill('#password', ADMIN.password);
      await page.fill('#password_again', ADMIN.password);
      await page.click('button[type=submit]');
      // The console sends the browser to Warden's login page.
      await page.waitForSelector('input[name=username]');
      assert.match(page.url(), /\/auth\/(login|authorize)/);
      await page.fill('input[name=username]', ADMIN.id);
      await page.fill('input[name=password]', ADMIN.password);
      await page.click('button[type=submit]');
      await page.waitForURL(`http://localhost:${port}/console/clients`);
      assert.equal(await page.getByTestId('whoami').textContent(), ADMIN.id);
    } finally {
      await context.close();
    }
  });

  test('once the administrator exists the setup page is gone and other callers are served', async () => {
    const setup = await fetch(`${server.url}/console/setup`);
    assert.equal(setup.status, 410);
    const forwarded = await fetch(`${server.url}/Patient`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(forwarded.status, 401, 'served, and asked for credentials');
    const again = await fetch(`${server.url}/console/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'intruder', password: 'another long password', password_again: 'another long password' }).toString(),
    });
    assert.equal(again.status, 410, 'no second "first" administrator');
  });

  test('the console opened by IP address while WARDEN_BASE_URL says localhost says which setting to change, on the page and in the log', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`http://127.0.0.1:${port}/console/`);
      const notice = page.getByTestId('base-url-mismatch');
      await notice.waitFor();
      const text = (await notice.textContent()) ?? '';
      assert.match(text, new RegExp(`opened at http://127\\.0\\.0\\.1:${port}`));
      assert.match(text, /WARDEN_BASE_URL/);
      assert.match(text, new RegExp(`WARDEN_BASE_URL=http://127\\.0\\.0\\.1:${port}`));
      assert.equal(await page.getByRole('link', { name: `Open http://localhost:${port}/console` }).count(), 1);
      const line = await server.waitForLine(/console was opened at http:\/\/127\.0\.0\.1/);
      assert.match(line, /WARDEN_BASE_URL is http:\/\/localhost/);
      assert.match(line, /"level":40/, 'a warning');
    } finally {
      await context.close();
    }
  });
});
