// SMART offline_access and online_access over real HTTP: which authorization-code grants get a refresh token,
// which sign-out ends them, and that a refresh stays within the first grant. The offline flow is driven by an
// independent client library, oauth4webapi (panva), which checks every response against the RFCs itself.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { CookieBrowser, hiddenFields, pkcePair } from '../helpers/browser.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { authorizeInBrowser, codeOf, logout, smartAuthorizePath } from './browser-launch.ts';
import { bearer, clinicianPolicyFor, put, seedClinicalData, smartPolicyFor, tokenRequest } from './fixtures.ts';

const insecure = { [oauth.allowInsecureRequests]: true };
const { verifier, challenge } = pkcePair();
const CALLBACK = 'https://chart.example/callback';
const NURSE = { id: 'nurse', email: 'nurse@example.com', password: 'nurse password 1' };
/** Never consents to anything, so the consent page always shows. */
const VISITOR = { id: 'visitor', email: 'visitor@example.com', password: 'visitor password 1' };

for (const engine of engines()) {
  describe(`SMART offline_access and online_access (${engine})`, () => {
    let server: TestServer;

    const authorizePath = (clientId: string, scope: string) =>
      smartAuthorizePath(server.url, { client_id: clientId, redirect_uri: CALLBACK, code_challenge: challenge, scope });

    /** Signs in (in `browser`, a new one by default), consents, and exchanges the code. */
    async function tokensFor(clientId: string, scope: string, browser = new CookieBrowser(server.url)) {
      const code = codeOf(await authorizeInBrowser(browser, authorizePath(clientId, scope), NURSE), CALLBACK);
      const token = await tokenRequest(server, { grant_type: 'authorization_code', code, client_id: clientId, redirect_uri: CALLBACK, code_verifier: verifier });
      assert.equal(token.status, 200, JSON.stringify(token.body.error_description ?? ''));
      return token.body;
    }

    const refresh = (clientId: string, refreshToken: string, scope?: string) =>
      tokenRequest(server, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, ...(scope && { scope }) });

    before(async () => {
      server = await startTestServer(engine);
      await seedClinicalData(server);
      for (const user of [NURSE, VISITOR]) await put(server, { resourceType: 'User', ...user } as never);
      const smartApp = (id: string, extra: Record<string, unknown>) =>
        put(server, {
          resourceType: 'Client',
          id,
          name: id,
          grant_types: ['authorization_code', 'refresh_token'],
          auth: { authorization_code: { redirect_uri: CALLBACK } },
          ...extra,
        } as never);
      // A SMART app that may refresh, and whose scopes decide whether it gets a refresh token.
      await smartApp('chart', { scope: ['offline_access', 'online_access', 'user/Patient.rs', 'user/Observation.rs'] });
      // One whose grant_types lack refresh_token: it is never granted offline_access or online_access.
      await smartApp('no-refresh', { grant_types: ['authorization_code'] });
      // One that turned refresh tokens off explicitly, whatever its grant_types say.
      await smartApp('refresh-off', { auth: { authorization_code: { redirect_uri: CALLBACK, refresh_token: false } } });
      // Aidbox style: the per-grant setting alone asks for refresh tokens; no SMART scopes.
      await smartApp('aidbox-style', { grant_types: ['authorization_code'], auth: { authorization_code: { redirect_uri: CALLBACK, refresh_token: true } } });
      for (const id of ['chart', 'no-refresh', 'refresh-off', 'aidbox-style']) await smartPolicyFor(server, id);
      await clinicianPolicyFor(server, NURSE.id);
    });
    after(() => server.close());

    test('discovery advertises permission-offline and permission-online', async () => {
      const { body } = await server.request('GET', '/.well-known/smart-configuration', { auth: null });
      assert.ok(body.capabilities.includes('permission-offline'));
      assert.ok(body.capabilities.includes('permission-online'));
    });

    test('offline_access gives a refresh token that still works after the user signs out (oauth4webapi)', async () => {
      const issuer = new URL(server.url);
      const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
      const client: oauth.Client = { client_id: 'chart' };
      const codeVerifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const url = new URL(as.authorization_endpoint!);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: CALLBACK,
        scope: 'offline_access user/Patient.rs',
        state,
        aud: server.url,
        code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
      }).toString();
      const browser = new CookieBrowser(server.url);
      const answer = await authorizeInBrowser(browser, `${url.pathname}${url.search}`, NURSE);
      const callback = oauth.validateAuthResponse(as, client, new URL(answer.location!), state);
      const exchanged = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), callback, CALLBACK, codeVerifier, insecure);
      const first = await oauth.processAuthorizationCodeResponse(as, client, exchanged);
      assert.equal(first.scope, 'offline_access user/Patient.rs');
      assert.ok(first.refresh_token, 'offline_access was granted, so a refresh token is issued');

      await logout(browser);
      assert.equal((await bearer(server, first.access_token, 'GET', '/Patient/pat-a')).status, 200, 'the offline grant outlives the sign-in');
      const refreshed = await oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, oauth.None(), first.refresh_token!, insecure),
      );
      assert.ok(refreshed.refresh_token && refreshed.refresh_token !== first.refresh_token, 'rotated');
      assert.equal(refreshed.scope, 'offline_access user/Patient.rs');
      assert.equal((await bearer(server, refreshed.access_token, 'GET', '/Patient/pat-a')).status, 200);
    });

    test('online_access gives a refresh token that works while the user is signed in and dies when they sign out', async () => {
      const browser = new CookieBrowser(server.url);
      const first = await tokensFor('chart', 'online_access user/Patient.rs', browser);
      assert.equal(first.scope, 'online_access user/Patient.rs');
      assert.ok(first.refresh_token);
      const refreshed = await refresh('chart', first.refresh_token);
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body.error_description ?? ''));

      await logout(browser);
      const afterLogout = await refresh('chart', refreshed.body.refresh_token);
      assert.equal(afterLogout.status, 400);
      assert.equal(afterLogout.body.error, 'invalid_grant');
      assert.equal((await bearer(server, refreshed.body.access_token, 'GET', '/Patient/pat-a')).status, 401);
    });

    test("signing out ends the online grant and leaves the same user's offline grant", async () => {
      const browser = new CookieBrowser(server.url);
      const online = await tokensFor('chart', 'online_access user/Patient.rs', browser);
      const offline = await tokensFor('chart', 'offline_access user/Patient.rs', browser);
      await logout(browser);
      assert.equal((await refresh('chart', online.refresh_token)).body.error, 'invalid_grant');
      assert.equal((await refresh('chart', offline.refresh_token)).status, 200);
    });

    test("a new sign-in in the same browser keeps the same user's online grant and ends another user's", async () => {
      const signInAgain = (browser: CookieBrowser, who: typeof NURSE) =>
        authorizeInBrowser(browser, `${authorizePath('chart', 'user/Patient.rs')}&prompt=login`, who);

      const same = new CookieBrowser(server.url);
      const kept = await tokensFor('chart', 'online_access user/Patient.rs', same);
      codeOf(await signInAgain(same, NURSE), CALLBACK);
      const refreshed = await refresh('chart', kept.refresh_token);
      assert.equal(refreshed.status, 200, 'the same user is still signed in');
      await logout(same);
      assert.equal((await refresh('chart', refreshed.body.refresh_token)).body.error, 'invalid_grant', 'and signing out of the new sign-in ends it');

      const shared = new CookieBrowser(server.url);
      const ended = await tokensFor('chart', 'online_access user/Patient.rs', shared);
      await signInAgain(shared, VISITOR);
      assert.equal((await refresh('chart', ended.refresh_token)).body.error, 'invalid_grant', 'another user signed in on this browser');
      assert.equal((await bearer(server, ended.access_token, 'GET', '/Patient/pat-a')).status, 401);
    });

    test('without offline_access or online_access a SMART app gets no refresh token', async () => {
      const body = await tokensFor('chart', 'user/Patient.rs');
      assert.equal(body.refresh_token, undefined);
      assert.equal(body.scope, 'user/Patient.rs');
    });

    test('a client without the refresh_token grant is not granted offline_access: no refresh token, and scope says so', async () => {
      const body = await tokensFor('no-refresh', 'offline_access user/Patient.rs');
      assert.equal(body.refresh_token, undefined);
      assert.equal(body.scope, 'user/Patient.rs');
    });

    test('refresh_token: false in the client settings wins over online_access', async () => {
      const body = await tokensFor('refresh-off', 'online_access user/Patient.rs');
      assert.equal(body.refresh_token, undefined);
      assert.equal(body.scope, 'user/Patient.rs');
    });

    test('an Aidbox-style client (refresh_token: true, no SMART scopes) still gets a refresh token, ended by sign-out', async () => {
      const browser = new CookieBrowser(server.url);
      const body = await tokensFor('aidbox-style', 'user/Patient.rs', browser);
      assert.ok(body.refresh_token);
      assert.equal((await refresh('aidbox-style', body.refresh_token)).status, 200);
      const again = await tokensFor('aidbox-style', 'user/Patient.rs', browser);
      await logout(browser);
      assert.equal((await refresh('aidbox-style', again.refresh_token)).body.error, 'invalid_grant');
    });

    test('a refresh answers a subset of the first grant: the same by default, narrower when asked, never wider', async () => {
      const first = await tokensFor('chart', 'offline_access user/Patient.rs user/Observation.rs');
      const same = await refresh('chart', first.refresh_token);
      assert.equal(same.status, 200);
      assert.equal(same.body.scope, 'offline_access user/Patient.rs user/Observation.rs');
      const narrower = await refresh('chart', same.body.refresh_token, 'user/Observation.rs');
      assert.equal(narrower.status, 200, JSON.stringify(narrower.body.error_description ?? ''));
      assert.equal(narrower.body.scope, 'user/Observation.rs');
      assert.equal((await bearer(server, narrower.body.access_token, 'GET', '/Patient/pat-a')).status, 403, 'the narrowed token lost Patient');
      // The refresh token keeps the first grant: the narrowing applied to that one access token only.
      const back = await refresh('chart', narrower.body.refresh_token);
      assert.equal(back.body.scope, 'offline_access user/Patient.rs user/Observation.rs');
      const wider = await refresh('chart', back.body.refresh_token, 'online_access user/Patient.rs');
      assert.equal(wider.status, 400);
      assert.equal(wider.body.error, 'invalid_scope');
      const widerResource = await refresh('chart', back.body.refresh_token, 'user/Patient.cruds');
      assert.equal(widerResource.body.error, 'invalid_scope');
    });

    test('a client that loses the refresh_token grant can no longer refresh', async () => {
      await put(server, {
        resourceType: 'Client', id: 'fickle', grant_types: ['authorization_code', 'refresh_token'],
        auth: { authorization_code: { redirect_uri: CALLBACK } },
      } as never);
      const body = await tokensFor('fickle', 'offline_access');
      assert.ok(body.refresh_token);
      await put(server, { resourceType: 'Client', id: 'fickle', grant_types: ['authorization_code'], auth: { authorization_code: { redirect_uri: CALLBACK } } } as never);
      const refused = await refresh('fickle', body.refresh_token);
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error, 'unauthorized_client');
    });

    test('the consent page describes offline and online access, and says which survives signing out', async () => {
      const pageFor = async (scope: string) => {
        const browser = new CookieBrowser(server.url);
        let response = await browser.get(authorizePath('chart', scope));
        const login = await browser.get(response.location!);
        response = await browser.post('/auth/login', { ...hiddenFields(login.text), username: VISITOR.email, password: VISITOR.password });
        return (await browser.get(response.location!)).text;
      };
      const offline = await pageFor('offline_access user/Patient.rs');
      assert.match(offline, /Keep access after you sign out, until you revoke it/);
      assert.match(offline, /keeps its access after you sign out/);
      const online = await pageFor('online_access user/Patient.rs');
      assert.match(online, /Keep access while you stay signed in/);
      assert.match(online, /Signing out of Warden ends the access you give here/);
    });
  });
}
