// Authorization codes, refresh tokens and introspected tokens in a hostile client's hands: stolen codes, guessed
// codes and tokens, and credentials that outlive a password change. Raw HTTP against a real server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CookieBrowser, pkcePair } from '../helpers/browser.ts';
import { createClient, postForm, postFormFrom } from '../helpers/oauth.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { ALICE, CLIENTS, seed, signIn } from '../oauth/authorize-fixtures.ts';

const LIMITS = { identityLimit: 3, addressLimit: 1000, windowSeconds: 600, knownAddressSeconds: 86_400 };
const PORTAL = { id: CLIENTS.portal.id, secret: CLIENTS.portal.secret };
const WEB_APP = { id: CLIENTS.webApp.id, secret: CLIENTS.webApp.secret };
const PORTAL_CALLBACK = 'https://portal.example/cb';
const { verifier, challenge } = pkcePair();
const authorizePath = (params: Record<string, string>) => `/auth/authorize?${new URLSearchParams(params)}`;
const randomValue = (i: number) => `${'A'.repeat(40)}${String(i).padStart(3, '0')}`;

for (const engine of engines()) {
  describe(`codes and refresh tokens under attack (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { throttle: LIMITS });
      await seed(server);
    });
    after(() => server.close());

    /** Signs Alice in to the first-party portal (no consent page) and returns the code it is sent. */
    async function portalCode(extra: Record<string, string> = {}) {
      const browser = new CookieBrowser(server.url);
      let response = await signIn(browser, authorizePath({ client_id: 'portal', response_type: 'code', state: 's', scope: 'openid', redirect_uri: PORTAL_CALLBACK, ...extra }));
      response = await browser.get(response.location!);
      const code = new URL(response.location!).searchParams.get('code');
      assert.ok(code, response.location ?? undefined);
      return code;
    }
    const exchange = (code: string, auth: { id: string; secret: string } = PORTAL, extra: Record<string, string> = {}) =>
      postForm(server, '/auth/token', { grant_type: 'authorization_code', code, redirect_uri: PORTAL_CALLBACK, ...extra }, auth);

    describe('stolen codes (RFC 6749 §4.1.3, RFC 9700 §4.2)', () => {
      test('another client\'s redemption is refused like an unknown code and does not spend the code', async () => {
        const code = await portalCode();
        const stolen = await exchange(code, WEB_APP);
        const unknown = await exchange(randomValue(0), WEB_APP);
        assert.equal(stolen.status, 400);
        assert.equal(stolen.body.error, 'invalid_grant');
        assert.deepEqual(stolen.body, unknown.body, 'the thief learns nothing of the code');
        const rightful = await exchange(code);
        assert.equal(rightful.status, 200, rightful.text);
      });

      test('the rightful client\'s failed exchange (a wrong PKCE verifier, RFC 7636 §4.6) still spends the code', async () => {
        const code = await portalCode({ code_challenge: challenge, code_challenge_method: 'S256' });
        const wrong = await exchange(code, PORTAL, { code_verifier: 'W'.repeat(43) });
        assert.equal(wrong.body.error, 'invalid_grant');
        const late = await exchange(code, PORTAL, { code_verifier: verifier });
        assert.equal(late.status, 400);
        assert.equal(late.body.error, 'invalid_grant');
      });
    });

    describe('guessing random values is throttled per client and address (ASVS 5.0 V6.3.1, RFC 6749 §10.10)', () => {
      const GUESSER = '127.0.0.5';
      const ELSEWHERE = '127.0.0.6';

      test('random codes at /auth/token: 429 with Retry-After once the client used up its failures from the address', async () => {
        await createClient(server, { id: 'code-guesser', secret: 'code-guesser-secret', grant_types: ['authorization_code'], auth: { authorization_code: { redirect_uri: PORTAL_CALLBACK } } });
        const guess = (from: string, i: number) =>
          postFormFrom(server, from, '/auth/token', { grant_type: 'authorization_code', code: randomValue(i), redirect_uri: PORTAL_CALLBACK }, { id: 'code-guesser', secret: 'code-guesser-secret' });
        for (let i = 0; i < LIMITS.identityLimit; i++) assert.equal((await guess(GUESSER, i)).status, 400);
        const blocked = await guess(GUESSER, 99);
        assert.equal(blocked.status, 429);
        assert.equal(JSON.parse(blocked.text).error, 'slow_down');
        assert.ok(Number(blocked.retryAfter) > 0);
        assert.equal((await guess(ELSEWHERE, 100)).status, 400, 'not a global lock: anyone can send a public client\'s id');
      });

      test('random refresh tokens at /auth/token are throttled the same way', async () => {
        const guess = (i: number) => postFormFrom(server, GUESSER, '/auth/token', { grant_type: 'refresh_token', refresh_token: randomValue(i) }, PORTAL);
        for (let i = 0; i < LIMITS.identityLimit; i++) assert.equal((await guess(i)).status, 400);
        assert.equal((await guess(99)).status, 429);
      });

      test('random opaque tokens at /auth/introspect (RFC 7662 §4) are throttled; a token Warden issued is not counted', async () => {
        const issued = await exchange(await portalCode());
        const introspect = (token: string) => postFormFrom(server, GUESSER, '/auth/introspect', { token }, PORTAL);
        for (let i = 0; i < 5; i++) assert.equal(JSON.parse((await introspect(issued.body.refresh_token)).text).active, true);
        for (let i = 0; i < LIMITS.identityLimit; i++) assert.deepEqual(JSON.parse((await introspect(randomValue(i))).text), { active: false });
        const blocked = await introspect(randomValue(99));
        assert.equal(blocked.status, 429);
        assert.ok(Number(blocked.retryAfter) > 0);
      });
    });

    test('a password change revokes the User\'s refresh tokens and sessions (ASVS 5.0 V7.4.3)', async () => {
      const { body: tokens } = await exchange(await portalCode());
      const before = await postForm(server, '/auth/introspect', { token: tokens.access_token }, PORTAL);
      assert.equal(before.body.active, true);
      const changed = await server.request('PUT', `/User/${ALICE.id}`, { body: { resourceType: 'User', email: ALICE.email, password: 'a new password, long enough' } });
      assert.equal(changed.status, 200, changed.text);
      const refreshed = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, PORTAL);
      assert.equal(refreshed.status, 400);
      assert.equal(refreshed.body.error, 'invalid_grant');
      assert.deepEqual((await postForm(server, '/auth/introspect', { token: tokens.access_token }, PORTAL)).body, { active: false });
      const api = await server.request('GET', '/Patient', { auth: null, headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(api.status, 401);
      await server.request('PUT', `/User/${ALICE.id}`, { body: { resourceType: 'User', email: ALICE.email, password: ALICE.password } });
    });
  });
}
