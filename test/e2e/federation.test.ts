// Sign in with an external identity provider, end to end in headless Chromium: Warden's login page offers
// "Sign in with Corporate IdP", the provider (oidc-provider) shows its own login page, and the browser comes
// back to Warden, which continues the application's /auth/authorize request (consent, code to the app).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { pkcePair } from '../helpers/browser.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { startOidcIdp, WARDEN_AT_IDP, type OidcIdp } from '../federation/oidc-idp.ts';
import { launchChromium, startClientApp, type ClientApp } from './browser-harness.ts';
import { clinicianPolicyFor, put, seedClinicalData, smartPolicyFor } from '../smart/fixtures.ts';

const { verifier, challenge } = pkcePair();

for (const engine of engines()) {
  describe(`sign in with an external identity provider in Chromium (${engine})`, () => {
    let server: TestServer;
    let idp: OidcIdp;
    let app: ClientApp;
    let browser: Browser;

    before(async () => {
      [server, app, browser] = await Promise.all([startTestServer(engine), startClientApp(), launchChromium()]);
      idp = await startOidcIdp(`${server.url}/auth/callback/corporate`);
      idp.accounts.set('carol', { email: 'carol@corp.example', email_verified: true, name: 'Carol Danvers', given_name: 'Carol' });
      // Only the issuer: the endpoints and keys come from its discovery document.
      const provider = await server.request('PUT', '/IdentityProvider/corporate', {
        body: { title: 'Corporate IdP', issuer: idp.issuer, scopes: ['openid', 'profile', 'email'], client: WARDEN_AT_IDP },
      });
      assert.equal(provider.status, 201, provider.text);
      const client = await server.request('PUT', '/Client/notes', {
        body: { name: 'Clinical Notes', grant_types: ['authorization_code'], auth: { authorization_code: { redirect_uri: app.callback } } },
      });
      assert.ok(client.status < 300, client.text);
    });
    after(async () => {
      await browser?.close();
      await Promise.all([app?.close(), idp?.close(), server?.close()]);
    });

    const authorizeUrl = (state: string, clientId = 'notes', scope = 'openid profile') =>
      `${server.url}/auth/authorize?${new URLSearchParams({
        client_id: clientId,
        response_type: 'code',
        redirect_uri: app.callback,
        scope,
        state,
        nonce: `nonce-${state}`,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      })}`;

    /** From the application to the provider's login page, signing in there as `login`. */
    async function signInAtProvider(page: Page, state: string, login = 'carol', url = authorizeUrl(state)) {
      await page.goto(url);
      await page.getByRole('link', { name: 'Sign in with Corporate IdP' }).click();
      await page.waitForURL((url) => url.href.startsWith(idp.issuer));
      await page.locator('input[name=login]').fill(login);
      await page.locator('input[name=password]').fill('any password');
      await page.getByRole('button', { name: 'Sign-in' }).click();
      const consent = page.getByRole('button', { name: 'Continue' });
      await page.waitForURL((url) => !url.href.startsWith(idp.issuer) || url.pathname.startsWith('/interaction'));
      if (page.url().startsWith(idp.issuer)) await consent.click();
      await page.waitForURL((url) => !url.href.startsWith(idp.issuer));
    }

    async function usersOf(sub: string) {
      const users = await server.request('GET', '/User?_count=1000');
      return (users.body.entry ?? []).map((entry: { resource: any }) => entry.resource).filter((user: any) => user.identifier?.some((id: any) => id.value === sub));
    }

    test('a new user signs in at the provider, is created, consents, and the app gets a code for them', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await signInAtProvider(page, 'first');
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((url) => url.href.startsWith(app.callback));
      const callback = new URL(page.url());
      assert.equal(callback.searchParams.get('state'), 'first');
      const token = await fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, client_id: 'notes', redirect_uri: app.callback, code_verifier: verifier }),
      });
      assert.equal(token.status, 200);
      const { id_token } = (await token.json()) as { id_token: string };
      const [user] = await usersOf('carol');
      assert.equal(decodeJwt(id_token).sub, user.id);
      assert.deepEqual(user.identifier, [{ system: idp.issuer, value: 'carol' }]);
      assert.equal(user.email, 'carol@corp.example');
      assert.equal(user.data.name, 'Carol Danvers');
      await context.close();
    });

    test('a returning user is the same User, updated with the provider\'s current claims', async () => {
      idp.accounts.set('carol', { email: 'carol@corp.example', email_verified: true, name: 'Carol Danvers-Rambeau' });
      const context = await browser.newContext();
      const page = await context.newPage();
      // Consent was given at the first sign-in, so the browser goes straight back to the app.
      await signInAtProvider(page, 'second');
      await page.waitForURL((url) => url.href.startsWith(app.callback));
      const users = await usersOf('carol');
      assert.equal(users.length, 1);
      assert.equal(users[0].data.name, 'Carol Danvers-Rambeau');
      await context.close();
    });

    test('after the provider, a SMART standalone launch continues to consent and the patient picker, and the token carries the patient picked', async () => {
      const [carol] = await usersOf('carol');
      await seedClinicalData(server);
      await clinicianPolicyFor(server, carol.id);
      await put(server, {
        resourceType: 'Client', id: 'chart', name: 'Chart Viewer', grant_types: ['authorization_code'],
        auth: { authorization_code: { redirect_uri: app.callback } }, scope: ['launch/patient', 'openid', 'patient/*.rs'],
      } as never);
      await smartPolicyFor(server, 'chart');
      const context = await browser.newContext();
      const page = await context.newPage();
      await signInAtProvider(page, 'smart', 'carol', authorizeUrl('smart', 'chart', 'launch/patient openid patient/*.rs'));
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.locator('input[name="smart_patient"][value="pat-b"]').check();
      await Promise.all([page.waitForURL((url) => url.href.startsWith(app.callback)), page.click('button.primary')]);
      const code = new URL(page.url()).searchParams.get('code')!;
      const token = await fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: 'chart', redirect_uri: app.callback, code_verifier: verifier }),
      });
      const body = (await token.json()) as { patient?: string; id_token: string; access_token: string };
      assert.equal(token.status, 200, JSON.stringify(body));
      assert.equal(body.patient, 'pat-b');
      assert.equal(decodeJwt(body.id_token).sub, carol.id);
      const read = await fetch(`${server.url}/Patient/pat-b`, { headers: { authorization: `Bearer ${body.access_token}` } });
      assert.equal(read.status, 200);
      const other = await fetch(`${server.url}/Patient/pat-a`, { headers: { authorization: `Bearer ${body.access_token}` } });
      assert.equal(other.status, 404, 'the token is confined to the patient picked: another patient is as if absent');
      await context.close();
    });

    test('a tampered state on the way back is refused with a page, and nobody is signed in', async () => {
      idp.tamper = 'state';
      try {
        const context = await browser.newContext();
        const page = await context.newPage();
        await signInAtProvider(page, 'tampered-state');
        await page.getByRole('heading', { name: 'This sign-in cannot be completed' }).waitFor();
        assert.ok(!(await context.cookies(server.url)).some((cookie) => cookie.name === 'warden_session'));
        await context.close();
      } finally {
        idp.tamper = 'none';
      }
    });

    for (const [tamper, what] of [['nonce', 'an id_token for another request (nonce)'], ['signature', 'an id_token altered after signing']] as const) {
      test(`${what} is refused with a page, and nobody is signed in`, async () => {
        idp.tamper = tamper;
        try {
          const context = await browser.newContext();
          const page = await context.newPage();
          await signInAtProvider(page, `tampered-${tamper}`);
          await page.getByRole('alert').waitFor();
          assert.match(await page.getByRole('alert').innerText(), /could not be verified/);
          assert.ok(!(await context.cookies(server.url)).some((cookie) => cookie.name === 'warden_session'));
          await context.close();
        } finally {
          idp.tamper = 'none';
        }
      });
    }

    test('a provider whose token endpoint fails gives a clear page', async () => {
      idp.tamper = 'fail';
      try {
        const context = await browser.newContext();
        const page = await context.newPage();
        await signInAtProvider(page, 'failing');
        await page.getByRole('heading', { name: 'Corporate IdP is not available' }).waitFor();
        assert.match(await page.getByRole('alert').innerText(), /did not answer as expected/);
        await context.close();
      } finally {
        idp.tamper = 'none';
      }
    });
  });
}
