// Clients and a user for the browser-flow tests, written through the API as an administrator would.
import assert from 'node:assert/strict';
import type { TestServer } from '../helpers/server.ts';
import { CookieBrowser, hiddenFields } from '../helpers/browser.ts';

export const ALICE = { id: 'alice', email: 'alice@example.com', password: 'correct horse battery staple' };

export const CLIENTS = {
  /** Seed 004's web-app, verbatim: a secret and comma-separated redirect URIs, no grant_types. */
  webApp: { resourceType: 'Client', id: 'web-app', secret: 'client-secret', redirect_uri: 'http://localhost:4200,https://example.com' },
  /** A public single-page app, with a hostile name to prove the pages escape it. */
  spa: {
    resourceType: 'Client',
    id: 'spa',
    name: '<script>alert("spa")</script> Notes',
    grant_types: ['authorization_code', 'implicit'],
    auth: {
      authorization_code: { redirect_uri: 'https://spa.example/callback' },
      implicit: { redirect_uri: ['https://spa.example/implicit', 'https://spa.example/other'] },
    },
  },
  /** A native app on the loopback interface (RFC 8252). */
  native: {
    resourceType: 'Client',
    id: 'native',
    grant_types: ['authorization_code'],
    auth: { authorization_code: { redirect_uri: ['http://127.0.0.1/callback', 'http://localhost:8000/cb'] } },
  },
  /** A first-party portal: no consent page. */
  portal: {
    resourceType: 'Client',
    id: 'portal',
    name: 'Patient Portal',
    secret: 'portal-secret',
    first_party: true,
    grant_types: ['authorization_code', 'refresh_token'],
    auth: { authorization_code: { redirect_uri: 'https://portal.example/cb', refresh_token: true } },
  },
} as const;

export async function seed(server: TestServer): Promise<void> {
  for (const client of Object.values(CLIENTS)) {
    const response = await server.request('PUT', `/Client/${client.id}`, { body: client });
    assert.ok(response.status < 300, `PUT Client/${client.id}: ${response.text}`);
  }
  const user = await server.request('PUT', `/User/${ALICE.id}`, {
    body: {
      resourceType: 'User',
      id: ALICE.id,
      email: ALICE.email,
      password: ALICE.password,
      data: { given_name: 'Alice', family_name: 'Liddell', email: ALICE.email },
    },
  });
  assert.ok(user.status < 300, user.text);
}

/** Follows an authorization request to the login page, signs in, and returns where the login sent the browser. */
export async function signIn(browser: CookieBrowser, authorizePath: string, username = ALICE.email, password = ALICE.password) {
  const start = await browser.get(authorizePath);
  assert.equal(start.status, 303, start.text);
  assert.match(start.location!, /^\/auth\/login\?return_to=/);
  const loginPage = await browser.get(start.location!);
  assert.equal(loginPage.status, 200);
  const form = hiddenFields(loginPage.text);
  return browser.post('/auth/login', { ...form, username, password });
}
