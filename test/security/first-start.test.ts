// A fresh store has no administrator; the setup page that makes the first one must be reachable only by the
// person at the machine, and only once (OWASP Top 10 2021 A05, insecure defaults; ASVS 5.0 §3.5.1, CSRF;
// Keycloak's local-access rule for its initial admin). Each case is a raw HTTP request on a server without a
// root client or admin password.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

interface Raw {
  status: number;
  text: string;
  cookies: string[];
}

/** An HTTP request with any headers, Host included (fetch refuses to set Host). */
function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text, cookies: response.headers['set-cookie'] ?? [] }));
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

const FORM_TYPE = { 'content-type': 'application/x-www-form-urlencoded' };

for (const engine of engines()) {
  describe(`first-start setup page (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { rootClient: undefined });
    });
    after(() => server.close());

    /** A CSRF cookie and token from the setup form, as a browser on this machine gets them. */
    async function setupForm(): Promise<{ cookie: string; token: string }> {
      const page = await raw(`${server.url}/console/setup`);
      assert.equal(page.status, 200, page.text.slice(0, 300));
      const token = /name="csrf_token" value="([^"]+)"/.exec(page.text)![1];
      return { cookie: page.cookies[0].split(';')[0], token };
    }

    const post = (cookie: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
      raw(`${server.url}/console/setup`, { method: 'POST', headers: { ...FORM_TYPE, cookie, ...headers }, body: new URLSearchParams(fields).toString() });

    test('OWASP A05 (insecure default): a request forwarded by a proxy is no local caller: 503 for the API, and no setup page', async () => {
      const api = await raw(`${server.url}/Patient`, { headers: { 'x-forwarded-for': '198.51.100.7' } });
      assert.equal(api.status, 503);
      assert.match(api.text, /WARDEN_ADMIN_PASSWORD/);
      const setup = await raw(`${server.url}/console/setup`, { headers: { forwarded: 'for=198.51.100.7' } });
      assert.equal(setup.status, 503);
    });

    test('DNS rebinding: a loopback connection naming another host is refused', async () => {
      const { port } = new URL(server.url);
      const setup = await raw(`${server.url}/console/setup`, { headers: { host: `rebind.attacker.example:${port}` } });
      assert.equal(setup.status, 503);
    });

    test('ASVS 5.0 §3.5.1: a setup POST without the form\'s CSRF token makes no administrator', async () => {
      const forged = await post('', { username: 'mallory', password: 'mallory password 1', password_again: 'mallory password 1' });
      assert.equal(forged.status, 400);
      assert.match(forged.text, /expired/);
      assert.equal((await server.app.ctx.resources.read('User', 'mallory')), null);
    });

    test('ASVS 5.0 §6.2.1: a short password is refused', async () => {
      const { cookie, token } = await setupForm();
      const short = await post(cookie, { csrf_token: token, username: 'jane', password: 'short', password_again: 'short' });
      assert.equal(short.status, 400);
      assert.match(short.text, /at least 12/);
    });

    test('property: no setup form body makes a 5xx or an administrator without the form\'s token', async () => {
      const { cookie } = await setupForm();
      const field = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constant(''));
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom('username', 'password', 'password_again', 'csrf_token', 'other'), field), async (fields) => {
          const response = await post(cookie, fields);
          assert.ok(response.status >= 400 && response.status < 500, `${response.status} ${response.text.slice(0, 200)}`);
        }),
        { numRuns: 100 },
      );
    });

    test('the first administrator is made once; a second "first" administrator is refused with 410', async () => {
      const { cookie, token } = await setupForm();
      const made = await post(cookie, { csrf_token: token, username: 'jane', password: 'jane password 12', password_again: 'jane password 12' });
      assert.equal(made.status, 303, made.text.slice(0, 300));
      const second = await post(cookie, { csrf_token: token, username: 'mallory', password: 'mallory password 1', password_again: 'mallory password 1' });
      assert.equal(second.status, 410);
      assert.equal(await server.app.ctx.resources.read('User', 'mallory'), null);
      const api = await raw(`${server.url}/Patient`, { headers: { 'x-forwarded-for': '198.51.100.7' } });
      assert.equal(api.status, 401, 'open to the network now, behind authentication');
    });
  });
}
