// The browser flows with an independent relying party: openid-client (v6) discovers Warden, builds the
// authorization URL, checks the response (state, iss per RFC 9207, PKCE, ID token signature, nonce, at_hash)
// and reads userinfo. Chromium plays the user.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { ALICE, seed } from '../oauth/authorize-fixtures.ts';
import { launchChromium, startClientApp, type ClientApp } from './browser-harness.ts';

for (const engine of engines()) {
  describe(`openid-client as relying party (${engine})`, () => {
    let server: TestServer;
    let app: ClientApp;
    let browser: Browser;

    before(async () => {
      [server, app, browser] = await Promise.all([startTestServer(engine), startClientApp(), launchChromium()]);
      await seed(server);
      for (const client of [
        { resourceType: 'Client', id: 'rp-public', grant_types: ['authorization_code'], auth: { authorization_code: { redirect_uri: app.callback } } },
        { resourceType: 'Client', id: 'rp-public-offline', grant_types: ['authorization_code', 'refresh_token'], auth: { authorization_code: { redirect_uri: app.callback } } },
        {
          resourceType: 'Client',
          id: 'rp-confidential',
          secret: 'rp-secret',
          first_party: true,
          grant_types: ['authorization_code', 'refresh_token'],
          auth: { authorization_code: { redirect_uri: app.callback, refresh_token: true, token_format: 'opaque' } },
        },
      ]) {
        const put = await server.request('PUT', `/Client/${client.id}`, { body: client });
        assert.ok(put.status < 300, put.text);
      }
    });
    after(async () => {
      await browser?.close();
      await app?.close();
      await server?.close();
    });

    const discover = (clientId: string, auth: oidc.ClientAuth) =>
      oidc.discovery(new URL(server.url), clientId, undefined, auth, { execute: [oidc.allowInsecureRequests] });

    /** Sends Chromium to the authorization URL, signs in (and allows when asked), returns the callback URL. */
    async function authorizeInBrowser(page: Page, url: URL): Promise<URL> {
      await page.goto(url.href);
      if (page.url().includes('/auth/login')) {
        await page.getByLabel('Email or user id').fill(ALICE.id);
        await page.getByLabel('Password').fill(ALICE.password);
        await page.getByRole('button', { name: 'Sign in' }).click();
      }
      await page.waitForURL((current) => current.href.startsWith(app.callback) || current.pathname === '/auth/authorize');
      if (!page.url().startsWith(app.callback)) {
        await page.getByRole('button', { name: 'Allow' }).click();
        await page.waitForURL((current) => current.href.startsWith(app.callback));
      }
      return new URL(page.url());
    }

    /** The code flow with PKCE and state, signed in through Chromium, up to the token response. */
    async function signInWithCode(config: oidc.Configuration, scope: string) {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: app.callback,
        scope,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      });
      const context = await browser.newContext();
      const callback = await authorizeInBrowser(await context.newPage(), url);
      await context.close();
      return oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    }

    test('a public client: code flow with PKCE, ID token verified, userinfo read', async () => {
      const config = await discover('rp-public', oidc.None());
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: app.callback,
        scope: 'openid profile email',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      const context = await browser.newContext();
      const callback = await authorizeInBrowser(await context.newPage(), url);
      await context.close();

      const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
      const claims = tokens.claims()!;
      assert.equal(claims.sub, ALICE.id);
      assert.equal(claims.iss, server.url);
      assert.equal(claims.aud, 'rp-public');
      assert.equal(typeof claims.auth_time, 'number');
      const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      assert.equal(info.email, ALICE.email);
      assert.equal(info.given_name, 'Alice');

      // The same code again: openid-client gets invalid_grant.
      await assert.rejects(
        oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }),
        (error: { error?: string }) => error.error === 'invalid_grant',
      );
    });

    test('a confidential first-party client: client_secret_basic, opaque token, refresh', async () => {
      const config = await discover('rp-confidential', oidc.ClientSecretBasic('rp-secret'));
      const tokens = await signInWithCode(config, 'openid');
      assert.equal(tokens.claims()!.sub, ALICE.id);
      assert.ok(tokens.refresh_token);
      assert.doesNotMatch(tokens.access_token, /^eyJ/, 'opaque, as the client asked');
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
      assert.ok(refreshed.access_token);
      const info = await oidc.fetchUserInfo(config, refreshed.access_token, ALICE.id);
      assert.equal(info.sub, ALICE.id);
    });

    test('a public client with offline_access refreshes as openid-client does (client_id in the body, no secret)', async () => {
      const config = await discover('rp-public-offline', oidc.None());
      const tokens = await signInWithCode(config, 'openid offline_access');
      assert.ok(tokens.refresh_token, JSON.stringify(tokens));
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'rotated');
      const info = await oidc.fetchUserInfo(config, refreshed.access_token, ALICE.id);
      assert.equal(info.sub, ALICE.id);
      await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), (error: { error?: string }) => error.error === 'invalid_grant');
    });

    test('a response with a forged state is rejected by the relying party', async () => {
      const config = await discover('rp-public', oidc.None());
      const verifier = oidc.randomPKCECodeVerifier();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: app.callback,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: 'the-real-state',
      });
      const context = await browser.newContext();
      const callback = await authorizeInBrowser(await context.newPage(), url);
      await context.close();
      assert.equal(callback.searchParams.get('state'), 'the-real-state');
      await assert.rejects(oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'another-state' }));
    });
  });
}
