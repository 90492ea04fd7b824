// The admin console in a real headless Chromium: an administrator logs in through Warden's own authorization
// code flow with PKCE, registers a Basic client and a client-credentials client through the forms, writes the
// policies they need in the policy editor, and then those clients call the API the way curl would.
// With WARDEN_CONSOLE_SCREENSHOTS=<folder> it also saves a screenshot of each page (docs/screenshots/).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { basic, engines, request, startTestServer, type TestServer } from '../helpers/server.ts';
import { launchChromium } from './browser-harness.ts';

const ADMIN_PASSWORD = 'console-admin-password-42';
const SCREENSHOTS = process.env.WARDEN_CONSOLE_SCREENSHOTS;

const BASIC_POLICY = `# The seed's policy: the Basic client may read Patients, nothing else.
id: basic-policy
engine: json-schema
link:
  - reference: Client/basic
schema:
  required: [client, uri, request-method]
  properties:
    uri:
      type: string
      pattern: ^/Patient.*$
    request-method:
      constant: get
`;

const SERVICE_POLICY = `id: service-reads-patients
engine: matcho
description: The client-credentials service may read Patients.
link:
  - reference: Client/service
matcho:
  request-method: get
  uri: '#^/Patient'
`;

for (const engine of engines()) {
  describe(`admin console in Chromium (${engine})`, () => {
    let server: TestServer;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    const secrets: Record<string, string> = {};

    const shot = async (name: string) => {
      if (!SCREENSHOTS || engine !== 'pglite') return;
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.evaluate(() => document.getElementById('toasts')?.replaceChildren());
      await page.screenshot({ path: join(SCREENSHOTS, `console-${name}.png`), fullPage: true });
    };
    const heading = () => page.locator('main h1').first();
    const go = async (path: string, title: string | RegExp) => {
      await page.click(`nav a[href="${path}"]`);
      await page.waitForURL(`${server.url}${path}`);
      await assertHeading(title);
    };
    const assertHeading = async (title: string | RegExp) => {
      await page.locator('main h1', { hasText: title }).first().waitFor();
    };
    /** Registers a client through the flow's form and returns the secret shown once. */
    const registerClient = async (flow: string, id: string, name: string): Promise<string> => {
      await go('/console/clients', 'Clients');
      await page.click('text=Register client');
      await page.click(`a[data-flow="${flow}"]`);
      await page.waitForSelector(`form[data-flow="${flow}"]`);
      await page.fill('input[name=id]', id);
      await page.fill('input[name=name]', name);
      await page.click('form button[type=submit]');
      const secretField = page.getByTestId('secret-value');
      await secretField.waitFor();
      const secret = await secretField.inputValue();
      return secret;
    };

    before(async () => {
      server = await startTestServer(engine, { adminPassword: ADMIN_PASSWORD });
      await server.request('PUT', '/Patient/pt-1', { body: { resourceType: 'Patient', name: [{ family: 'Chalmers' }] } });
      browser = await launchChromium();
      context = await browser.newContext({ viewport: { width: 1360, height: 860 }, locale: 'en-US', timezoneId: 'UTC' });
      page = await context.newPage();
      page.setDefaultTimeout(15_000);
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('the console is served with a Content-Security-Policy that allows no inline script and no framing', async () => {
      const response = await fetch(`${server.url}/console/clients`);
      assert.equal(response.status, 200);
      const csp = response.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(response.headers.get('cache-control'), 'no-store', 'the shell is never cached, so a new build shows at once');
      const missing = await fetch(`${server.url}/console/assets/missing.js`);
      assert.equal(missing.status, 404);
    });

    test('opening the console sends the browser to Warden\'s login page with PKCE, and back logged in', async () => {
      await page.goto(`${server.url}/console/`);
      await page.waitForURL(/\/auth\/(authorize|login)/);
      const authorize = new URL(page.url());
      // The login page may have been reached through a redirect; what the console asked for is in the URL it came from.
      const asked = authorize.pathname === '/auth/authorize' ? authorize : new URL(authorize.searchParams.get('return_to') ?? page.url(), server.url);
      if (asked.pathname === '/auth/authorize') {
        assert.equal(asked.searchParams.get('client_id'), 'warden-console');
        assert.equal(asked.searchParams.get('code_challenge_method'), 'S256');
        assert.match(asked.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
      }
      await page.waitForSelector('#username');
      await shot('login');
      await page.fill('#username', server.config.adminUser);
      await page.fill('#password', ADMIN_PASSWORD);
      await page.click('button[type=submit]');
      await page.waitForURL(`${server.url}/console/clients`);
      await assertHeading('Clients');
      assert.equal(await page.getByTestId('whoami').textContent(), server.config.adminUser);
    });

    test('the access token stays in memory: not in the URL, localStorage or sessionStorage', async () => {
      assert.doesNotMatch(page.url(), /code=|token/);
      const stored = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } }));
      assert.equal(stored, JSON.stringify({ local: {}, session: {} }));
      const cookies = await context.cookies();
      assert.ok(cookies.every((cookie) => !/^ey/.test(cookie.value)), 'no JWT in a cookie');
    });

    test('the flow chooser offers a form per flow, each showing only the fields its flow uses', async () => {
      await go('/console/clients', 'Clients');
      await page.click('text=Register client');
      await assertHeading('Register a client');
      const flows = await page.locator('a[data-flow]').evaluateAll((links) => links.map((link) => link.getAttribute('data-flow')));
      assert.deepEqual(flows, ['basic', 'client_credentials', 'web', 'spa', 'password', 'implicit', 'smart']);
      await shot('client-flows');
      await page.click('a[data-flow="basic"]');
      await page.waitForSelector('form[data-flow="basic"]');
      assert.equal(await page.locator('textarea[name=redirect_uri]').count(), 0, 'Basic has no redirect URI');
      assert.equal(await page.locator('input[name=access_token_expiration]').count(), 0, 'Basic issues no tokens');
      await shot('client-form-basic');
      await page.goto(`${server.url}/console/clients/new?flow=spa`).catch(() => {});
      // A reload drops the in-memory token; the login is silent while Warden's browser session lasts.
      await page.waitForSelector('form[data-flow="spa"]');
      assert.equal(await page.locator('textarea[name=redirect_uri]').count(), 1);
      assert.equal(await page.locator('text=A public client has no secret').count(), 1);
      await shot('client-form-spa');
    });

    test('a Basic client registered through the form gets a secret shown once, never put in a URL', async () => {
      secrets.basic = await registerClient('basic', 'basic', 'Billing service');
      assert.match(secrets.basic, /^[A-Za-z0-9_-]{43}$/);
      assert.ok(!page.url().includes(secrets.basic));
      await shot('client-secret');
      await page.getByTestId('secret-done').click();
      await assertHeading('Client basic');
      assert.equal(await page.locator('text=' + secrets.basic).count(), 0, 'the secret is gone from the page');
      const stored = await server.request('GET', '/Client/basic');
      assert.deepEqual(stored.body.grant_types, ['basic']);
      assert.match(stored.body.secret, /^\$s0\$/, 'stored hashed');
      await shot('client-edit');
    });

    test('a client-credentials client registered through the form', async () => {
      secrets.service = await registerClient('client_credentials', 'service', 'Nightly export');
      await page.getByTestId('secret-done').click();
      await assertHeading('Client service');
      const stored = await server.request('GET', '/Client/service');
      assert.deepEqual(stored.body.grant_types, ['client_credentials']);
      assert.equal(stored.body.auth.client_credentials.token_format, 'jwt');
    });

    test('before any policy, the new clients are denied', async () => {
      const read = await request(server.url, 'GET', '/Patient', { auth: { id: 'basic', secret: secrets.basic! } });
      assert.equal(read.status, 403, read.text);
    });

    test('the policy editor checks YAML as it is typed and points at the line of the mistake', async () => {
      await go('/console/policies', 'Access policies');
      await page.click('text=New policy');
      await assertHeading('New access policy');
      const status = page.getByTestId('policy-status');
      await page.getByTestId('policy-source').fill('id: broken\nengine: json-schema\nschema:\n  properties: [\n');
      await status.locator('.line').first().waitFor();
      assert.match((await status.textContent()) ?? '', /YAML/);
      assert.equal(await page.getByTestId('policy-save').isDisabled(), true);
      await page.getByTestId('policy-source').fill('id: no-engine\nlink: [{reference: Client/basic}]\n');
      await page.waitForFunction(() => document.querySelector('[data-testid=policy-status]')?.textContent?.includes('engine is missing'));
      await page.getByTestId('policy-source').fill(BASIC_POLICY);
      await page.waitForFunction(() => document.querySelector('[data-testid=policy-status]')?.textContent?.includes('Valid AccessPolicy'));
      assert.equal(await page.getByTestId('policy-save').isDisabled(), false);
    });

    test('"try it" asks POST /auth/test-policy what the unsaved policy decides', async () => {
      await page.fill('.try-form input[name=uri]', '/Patient');
      await page.fill('.try-form input[name=client]', 'basic');
      await page.getByTestId('try-run').click();
      await page.getByTestId('verdict').waitFor();
      assert.equal((await page.getByTestId('verdict').textContent())?.trim(), 'Allowed');
      await shot('policy-editor');
      await page.selectOption('.try-form select[name=method]', 'POST');
      await page.getByTestId('try-run').click();
      await page.locator('[data-testid=verdict].deny').waitFor();
    });

    test('the policies saved in the editor let the Basic client read and nothing more', async () => {
      await page.getByTestId('policy-save').click();
      await assertHeading('Policy basic-policy');
      const read = await request(server.url, 'GET', '/Patient', { auth: { id: 'basic', secret: secrets.basic! } });
      assert.equal(read.status, 200, read.text);
      assert.equal(read.body.entry[0].resource.id, 'pt-1');
      const write = await request(server.url, 'POST', '/Patient', { auth: { id: 'basic', secret: secrets.basic! }, body: { resourceType: 'Patient' } });
      assert.equal(write.status, 403);
    });

    test('the client-credentials client gets a token and reads with it', async () => {
      await go('/console/policies', 'Access policies');
      await page.click('text=New policy');
      await page.getByTestId('policy-source').fill(SERVICE_POLICY);
      await page.waitForFunction(() => document.querySelector('[data-testid=policy-status]')?.textContent?.includes('Valid AccessPolicy'));
      await page.getByTestId('policy-save').click();
      await assertHeading('Policy service-reads-patients');
      await go('/console/policies', 'Access policies');
      await shot('policies');

      const token = await fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { authorization: basic('service', secrets.service!), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      const body = (await token.json()) as { access_token: string; token_type: string };
      assert.equal(token.status, 200, JSON.stringify(body));
      assert.match(body.token_type, /^bearer$/i);
      const read = await request(server.url, 'GET', '/Patient/pt-1', { auth: null, headers: { authorization: `Bearer ${body.access_token}` } });
      assert.equal(read.status, 200, read.text);
      assert.equal(read.body.name[0].family, 'Chalmers');
      secrets.serviceToken = body.access_token;
    });

    test('rotating the secret shows the new one once; the old one stops working', async () => {
      await page.goto(`${server.url}/console/clients/basic`);
      await assertHeading('Client basic');
      await page.getByTestId('rotate-secret').click();
      await page.click('dialog button:has-text("Rotate secret")');
      const secretField = page.getByTestId('secret-value');
      await secretField.waitFor();
      const rotated = await secretField.inputValue();
      await page.getByTestId('secret-done').click();
      assert.notEqual(rotated, secrets.basic);
      const old = await request(server.url, 'GET', '/Patient', { auth: { id: 'basic', secret: secrets.basic! } });
      assert.equal(old.status, 401);
      const fresh = await request(server.url, 'GET', '/Patient', { auth: { id: 'basic', secret: rotated } });
      assert.equal(fresh.status, 200);
      await go('/console/clients', 'Clients');
      await shot('clients');
    });

    test('users, roles and token introspectors are made through their forms', async () => {
      await go('/console/users', 'Users');
      await page.click('text=New user');
      await page.fill('input[name=id]', 'jane');
      await page.fill('input[name=email]', 'jane@example.org');
      await page.fill('input[name=givenName]', 'Jane');
      await page.fill('input[name=familyName]', 'Doe');
      await page.fill('input[name=password]', 'jane-password-123');
      await shot('user-form');
      await page.click('form button[type=submit]');
      await assertHeading('User jane');
      const jane = await server.request('GET', '/User/jane');
      assert.equal(jane.body.email, 'jane@example.org');
      assert.match(jane.body.password, /^\$s0\$/);
      await go('/console/users', 'Users');
      await shot('users');

      await go('/console/roles', 'Roles');
      await page.click('text=Assign role');
      await page.fill('input[name=name]', 'practitioner');
      await page.selectOption('select[name=user]', 'jane');
      await page.click('form button[type=submit]');
      await assertHeading('Roles');
      await page.locator('td', { hasText: 'practitioner' }).first().waitFor();
      await shot('roles');

      await go('/console/introspectors', 'Token introspectors');
      await page.click('text=New introspector');
      await page.fill('input[name=id]', 'corporate-idp');
      await page.fill('input[name=iss]', 'https://idp.example.org');
      await page.fill('input[name=aud]', 'https://warden.example.org');
      await page.fill('input[name=jwks_uri]', 'https://idp.example.org/.well-known/jwks.json');
      await page.click('form button[type=submit]');
      await assertHeading('Token introspectors');
      await page.locator('a', { hasText: 'corporate-idp' }).waitFor();
      await shot('introspectors');
      const stored = await server.request('GET', '/TokenIntrospector/corporate-idp');
      assert.equal(stored.body.type, 'jwt');
      assert.equal(stored.body.jwt.iss, 'https://idp.example.org');
      assert.equal(stored.body.jwt.aud, 'https://warden.example.org');
    });

    test('ending a session on the Sessions page ends the tokens issued in it', async () => {
      await go('/console/sessions', 'Sessions');
      const row = page.locator('tr', { hasText: 'service' });
      await row.first().waitFor();
      await shot('sessions');
      await row.first().locator('button', { hasText: 'End' }).click();
      await page.click('dialog button:has-text("End session")');
      await page.waitForFunction(() => !document.querySelector('main')?.textContent?.includes('client_credentials'));
      const read = await request(server.url, 'GET', '/Patient/pt-1', { auth: null, headers: { authorization: `Bearer ${secrets.serviceToken}` } });
      assert.equal(read.status, 401);
    });

    test('deleting a client through the console stops it authenticating', async () => {
      await page.goto(`${server.url}/console/clients/service`);
      await assertHeading('Client service');
      await page.click('form button:has-text("Delete")');
      await page.click('dialog button:has-text("Delete client")');
      await assertHeading('Clients');
      const token = await fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { authorization: basic('service', secrets.service!), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      assert.equal(token.status, 401);
    });
  });
}
