// Names a User signs in with (email, userName) attacked through case and Unicode: a second account whose email
// looks the same as the victim's, and logins that reach an account by another spelling (OWASP ASVS 5.0 V6.3.8,
// RFC 8265 §3.4: NFKC and case folding before comparing user names).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { indexUserLogins } from '../../src/iam/user-logins.ts';
import { createClient, createUser, postForm } from '../helpers/oauth.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const APP = { id: 'app', secret: 'app-secret' };

for (const engine of engines()) {
  describe(`login names by case and Unicode form (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      await createClient(server, { ...APP, grant_types: ['password'] });
      await createUser(server, { id: 'victim', email: 'Victim@Example.org', userName: 'victim-name', password: 'victim-password' });
    });
    after(() => server.close());

    const putUser = (id: string, fields: Record<string, unknown>) =>
      server.request('PUT', `/User/${id}`, { body: { resourceType: 'User', password: `${id}-password`, ...fields } });
    const signIn = (username: string, password: string) => postForm(server, '/auth/token', { grant_type: 'password', username, password }, APP);

    test('a second User whose email differs only by case or Unicode form is refused with 409', async () => {
      for (const email of ['victim@example.org', 'VICTIM@EXAMPLE.ORG', 'Ｖｉｃｔｉｍ@Example.org']) {
        const response = await putUser('impostor', { email });
        assert.equal(response.status, 409, `${email}: ${response.text}`);
        assert.equal(response.body.resourceType, 'OperationOutcome');
        assert.match(response.body.issue[0].diagnostics, /User\.email/);
      }
      assert.equal((await server.request('GET', '/User/impostor')).status, 404);
    });

    test('a userName is unique the same way, and may not take another User\'s email', async () => {
      assert.equal((await putUser('impostor', { userName: 'VICTIM-NAME' })).status, 409);
      assert.equal((await putUser('impostor', { userName: 'victim@example.org' })).status, 409);
    });

    test('the owner may change the case of their own email, and a freed name can be taken', async () => {
      assert.equal((await putUser('renamer', { email: 'renamer@example.org' })).status, 201);
      assert.equal((await putUser('renamer', { email: 'Renamer@Example.org' })).status, 200);
      assert.equal((await putUser('renamer', { email: 'renamed@example.org' })).status, 200);
      assert.equal((await putUser('newcomer', { email: 'RENAMER@example.org' })).status, 201, 'the old email is free again');
      assert.equal((await server.request('DELETE', '/User/newcomer')).status, 200);
      assert.equal((await putUser('successor', { email: 'renamer@example.org' })).status, 201, 'a deleted User frees its email');
    });

    test('a login by email or userName in another case or Unicode form reaches the one User', async () => {
      for (const login of ['victim@example.org', 'VICTIM@example.ORG', 'ｖｉｃｔｉｍ@example.org', 'Victim-Name']) {
        const response = await signIn(login, 'victim-password');
        assert.equal(response.status, 200, `${login}: ${response.text}`);
      }
    });

    test('the password itself is compared exactly as received (ASVS 5.0 V6.2.8)', async () => {
      assert.equal((await signIn('victim', 'VICTIM-PASSWORD')).status, 400);
    });

    test('Users stored before the login index existed are indexed at start', async () => {
      await createUser(server, { id: 'veteran', email: 'Veteran@Example.org', password: 'veteran-password' });
      await server.app.ctx.db.query(`delete from user_login where user_id = 'veteran'`);
      assert.equal((await signIn('veteran@example.org', 'veteran-password')).status, 400, 'not indexed: the email names no one');
      await indexUserLogins(server.app.ctx.db);
      assert.equal((await signIn('veteran@example.org', 'veteran-password')).status, 200);
    });

    test('two Users written at once with one email: exactly one is stored', async () => {
      const responses = await Promise.all(['racer-a', 'racer-b', 'racer-c'].map((id) => putUser(id, { email: 'race@example.org' })));
      assert.deepEqual(responses.map((response) => response.status).sort(), [201, 409, 409]);
    });
  });
}
