// Property tests of what an attacker can send to the sign-in endpoints of issue 20: any query to the identity
// provider callback (with or without a flow), any X-Client-Auth header, any logout parameters, any two-factor
// code. None may give a 5xx (OWASP ASVS 5.0 V16.5.3: fail securely, no unhandled errors).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { CookieBrowser, hiddenFields } from '../helpers/browser.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { startScriptedIdp, type ScriptedIdp } from '../federation/scripted-idp.ts';

const RUNS = 40;
const value = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', '%', '%00', '\u0000', 'a'.repeat(9000)));

for (const engine of engines()) {
  describe(`sign-in inputs never cause a 5xx (${engine})`, () => {
    let server: TestServer;
    let idp: ScriptedIdp;
    let externalToken: string;

    before(async () => {
      [server, idp] = await Promise.all([startTestServer(engine), startScriptedIdp()]);
      await server.request('PUT', '/IdentityProvider/scripted', { body: idp.provider('scripted') });
      await server.request('PUT', '/TokenIntrospector/hs', { body: { type: 'jwt', jwt: { iss: 'https://hs.example', aud: 'warden', secret: 'hs-secret-of-at-least-thirty-two-bytes' } } });
      await server.request('PUT', '/User/zed', { body: { password: 'zed-password-long', twoFactor: { enabled: true, secretKey: 'JBSWY3DPEHPK3PXPJBSWY3DP' } } });
      externalToken = await new SignJWT({ sub: 'someone', aud: 'warden' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://hs.example').setExpirationTime('5m')
        .sign(new TextEncoder().encode('hs-secret-of-at-least-thirty-two-bytes'));
    });
    after(async () => {
      await Promise.all([server?.close(), idp?.close()]);
    });

    test('any query to /auth/callback/{id}, with a flow started or not', async () => {
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom('code', 'state', 'error', 'iss', 'x'), value), fc.boolean(), async (params, started) => {
          const browser = new CookieBrowser(server.url);
          if (started) await browser.get('/auth/redirect/scripted');
          const response = await browser.get(`/auth/callback/scripted?${new URLSearchParams(params)}`);
          assert.ok(response.status < 500, `${response.status} for ${JSON.stringify(params)}`);
        }),
        { numRuns: RUNS },
      );
    });

    test('any X-Client-Auth beside an external token', async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.string({ maxLength: 60 }), value.map((text) => `Basic ${Buffer.from(text).toString('base64')}`)), async (header) => {
          const safe = header.replace(/[^\x20-\x7e]/g, '');
          const response = await server.request('GET', '/Patient', { auth: null, headers: { authorization: `Bearer ${externalToken}`, 'x-client-auth': safe } });
          assert.ok(response.status < 500, `${response.status} for ${JSON.stringify(safe)}`);
        }),
        { numRuns: RUNS },
      );
    });

    test('any RP-initiated logout parameters, on the page and in the form', async () => {
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom('id_token_hint', 'post_logout_redirect_uri', 'client_id', 'state'), value), async (params) => {
          const browser = new CookieBrowser(server.url);
          const page = await browser.get(`/auth/logout?${new URLSearchParams(params)}`);
          assert.ok(page.status < 500, `${page.status} for ${JSON.stringify(params)}`);
          const confirm = await browser.get('/auth/logout');
          const post = await browser.post('/auth/logout', { ...hiddenFields(confirm.text), ...params });
          assert.ok(post.status < 500, `${post.status} for ${JSON.stringify(params)}`);
        }),
        { numRuns: RUNS },
      );
    });

    test('any two-factor code after the right password', async () => {
      const browser = new CookieBrowser(server.url);
      const login = await browser.get('/auth/login');
      let page = await browser.post('/auth/login', { ...hiddenFields(login.text), username: 'zed', password: 'zed-password-long' });
      await fc.assert(
        fc.asyncProperty(value, async (code) => {
          const response = await browser.post('/auth/login/two-factor', { ...hiddenFields(page.text), code });
          assert.ok(response.status < 500, `${response.status} for ${JSON.stringify(code)}`);
          if (response.status !== 429) page = response;
        }),
        { numRuns: RUNS },
      );
    });
  });
}
