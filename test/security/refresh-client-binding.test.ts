// A refresh token stays bound to the client it was issued to (RFC 6749 §6, §10.4; OWASP ASVS 5.0 §10.4.8:
// refresh tokens of confidential clients are usable only with the client's authentication). A public client
// may send the token alone, since the token names its client; a confidential client's token never works so.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, createUser, postForm } from '../helpers/oauth.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const CONFIDENTIAL = { id: 'vault-app', secret: 'vault-app-secret' };

for (const engine of engines()) {
  describe(`refresh tokens stay with their client (${engine})`, () => {
    let server: TestServer;
    let refreshToken: string;
    before(async () => {
      server = await startTestServer(engine, { throttle: { identityLimit: 3, addressLimit: 1000, windowSeconds: 600, knownAddressSeconds: 86_400 } });
      await createClient(server, { id: CONFIDENTIAL.id, secret: CONFIDENTIAL.secret, grant_types: ['password'], auth: { password: { refresh_token: true } } });
      await createClient(server, { id: 'public-app', grant_types: ['password'], auth: { password: { secret_required: false, refresh_token: true } } });
      await createUser(server, { id: 'dana', password: 'dana-password' });
      const login = await postForm(server, '/auth/token', { grant_type: 'password', username: 'dana', password: 'dana-password' }, CONFIDENTIAL);
      assert.equal(login.status, 200, login.text);
      refreshToken = login.body.refresh_token;
    });
    after(() => server.close());

    test('RFC 6749 §6: a stolen confidential client\'s refresh token sent without credentials is invalid_client', async () => {
      const response = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: refreshToken });
      assert.equal(response.status, 401, response.text);
      assert.equal(response.body.error, 'invalid_client');
    });

    test('RFC 6749 §6: naming the confidential client without its secret is invalid_client too', async () => {
      const response = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CONFIDENTIAL.id });
      assert.equal(response.status, 401, response.text);
      assert.equal(response.body.error, 'invalid_client');
    });

    test('RFC 6749 §10.4: a public client naming itself cannot spend another client\'s token', async () => {
      const response = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'public-app' });
      assert.equal(response.status, 400, response.text);
      assert.equal(response.body.error, 'invalid_grant');
    });

    test('the attempts above spent nothing: the client itself still refreshes', async () => {
      const response = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: refreshToken }, CONFIDENTIAL);
      assert.equal(response.status, 200, response.text);
    });

    test('ASVS 5.0 V6.3.1: guessing refresh tokens without naming a client is throttled per address (429)', async () => {
      for (let guess = 0; guess < 3; guess++) {
        const response = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: `${'g'.repeat(42)}${guess}` });
        assert.equal(response.status, 400, response.text);
        assert.equal(response.body.error, 'invalid_grant');
      }
      const blocked = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: 'h'.repeat(43) });
      assert.equal(blocked.status, 429, blocked.text);
      assert.ok(Number(blocked.headers.get('retry-after')) > 0);
    });
  });
}
