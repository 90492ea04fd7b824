// README's "A first walk-through", request by request, as a reader types it: the seeds' Client, User and
// web-app samples verbatim, and the password grant answered in YAML with Aidbox's `userinfo`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { flowOf, valuesOf } from '../../console/src/pages/client-flows.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

for (const engine of engines()) {
  describe(`README walk-through (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      // As README starts it, with an administrator made from the environment too.
      server = await startTestServer(engine, { adminPassword: 'change-me-too' });
    });
    after(() => server.close());

    test('the YAML Client is created, its secret hashed, and read back as JSON', async () => {
      const created = await server.request('POST', '/Client', {
        raw: 'id: api-consumer\nsecret: verysecretstring\ngrant_types:\n  - basic\n',
        contentType: 'text/yaml',
        headers: { accept: 'text/yaml' },
      });
      assert.equal(created.status, 201, created.text);
      assert.match(parseYaml(created.text).secret, /^\$s0\$f0801\$/);
      const read = await server.request('GET', '/Client/api-consumer');
      assert.equal(read.body.id, 'api-consumer');
    });

    test('the seed\'s User "admin" does not collide with the administrator Warden made', async () => {
      assert.equal(server.config.adminUser, 'warden-admin');
      const user = await server.request('POST', '/User', {
        body: { resourceType: 'User', id: 'admin', password: 'long-user-password', data: { given_name: 'Main', family_name: 'Administrator' } },
      });
      assert.equal(user.status, 201, user.text);
      const client = await server.request('POST', '/Client', { raw: 'id: mobile-app\nsecret: mobile-secret\ngrant_types:\n  - password\n', contentType: 'text/yaml' });
      assert.equal(client.status, 201, client.text);
    });

    test('the password grant in YAML answers YAML with userinfo: the User with sub, without its password', async () => {
      const response = await server.request('POST', '/auth/token', {
        raw: 'grant_type: password\nclient_id: mobile-app\nclient_secret: mobile-secret\nusername: admin\npassword: long-user-password\n',
        contentType: 'text/yaml',
        headers: { accept: 'text/yaml' },
        auth: null,
      });
      assert.equal(response.status, 200, response.text);
      const body = parseYaml(response.text);
      assert.equal(body.token_type, 'bearer');
      assert.equal(body.expires_in, 3600);
      assert.equal(body.userinfo.sub, 'admin');
      assert.equal(body.userinfo.id, 'admin');
      assert.equal(body.userinfo.resourceType, 'User');
      assert.deepEqual(body.userinfo.data, { given_name: 'Main', family_name: 'Administrator' });
      assert.equal(body.userinfo.password, undefined);
    });

    test('the seed\'s web app (top-level redirect_uri, no grant_types) is a web application with both redirect URIs', async () => {
      const created = await server.request('POST', '/Client', {
        body: { resourceType: 'Client', id: 'web-app', secret: 'client-secret', redirect_uri: 'http://localhost:4200,https://example.com' },
      });
      assert.equal(created.status, 201, created.text);
      const flow = flowOf(created.body);
      assert.equal(flow.title, 'Web application');
      assert.equal(valuesOf(created.body, flow).redirect_uri, 'http://localhost:4200\nhttps://example.com');
      const authorize = await fetch(`${server.url}/auth/authorize?client_id=web-app&response_type=code&state=walk&redirect_uri=${encodeURIComponent('https://example.com')}`, { redirect: 'manual' });
      assert.equal(authorize.status, 303, 'on to the login page');
      assert.match(authorize.headers.get('location') ?? '', /^\/auth\/login/);
    });
  });
}
