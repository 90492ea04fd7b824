// A Client or User deleted and then made again with the same id is a new identity: nothing issued to the old
// one (access tokens, JWT or opaque, refresh tokens, Sessions) works for the new one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, createUser, decodeJwtPayload, postForm, withBearer } from '../helpers/oauth.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const JWT_CLIENT = { id: 'svc-jwt', secret: 'svc-jwt-secret', grant_types: ['client_credentials'], auth: { client_credentials: { token_format: 'jwt' } } };
const OPAQUE_CLIENT = { id: 'svc-opaque', secret: 'svc-opaque-secret', grant_types: ['client_credentials'], auth: { client_credentials: { token_format: 'opaque' } } };
const APP = { id: 'app', secret: 'app-secret', grant_types: ['password'], auth: { password: { refresh_token: true } } };
const BOB = { id: 'bob', password: 'bob-password' };

for (const engine of engines()) {
  describe(`a deleted and recreated Client or User (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      for (const client of [JWT_CLIENT, OPAQUE_CLIENT, APP]) await createClient(server, client);
      await createUser(server, BOB);
    });
    after(() => server.close());

    const credentials = (client: { id: string; secret: string }) => ({ id: client.id, secret: client.secret });

    async function clientToken(client: { id: string; secret: string }): Promise<string> {
      const response = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, credentials(client));
      assert.equal(response.status, 200, response.text);
      return response.body.access_token;
    }

    async function userTokens(): Promise<{ access: string; refresh: string }> {
      const response = await postForm(server, '/auth/token', { grant_type: 'password', username: BOB.id, password: BOB.password }, credentials(APP));
      assert.equal(response.status, 200, response.text);
      assert.equal(typeof response.body.refresh_token, 'string');
      return { access: response.body.access_token, refresh: response.body.refresh_token };
    }

    /** 403: the token authenticated (no policy lets it read); 401: the token was refused. */
    const apiStatus = async (token: string) => (await withBearer(server, 'GET', '/Patient', token)).status;

    async function deleteAndRecreate(type: 'Client' | 'User', resource: Record<string, unknown>) {
      assert.equal((await server.request('DELETE', `/${type}/${resource.id}`)).status, 200);
      if (type === 'Client') await createClient(server, resource);
      else await createUser(server, resource);
    }

    test('a Client\'s JWT access token from before the delete is refused after the recreate', async () => {
      const token = await clientToken(JWT_CLIENT);
      assert.equal(await apiStatus(token), 403);
      await deleteAndRecreate('Client', JWT_CLIENT);
      assert.equal(await apiStatus(token), 401);
      assert.equal(await apiStatus(await clientToken(JWT_CLIENT)), 403, 'the new Client gets tokens that work');
    });

    test('a Client\'s opaque access token from before the delete is refused after the recreate', async () => {
      const token = await clientToken(OPAQUE_CLIENT);
      assert.equal(await apiStatus(token), 403);
      await deleteAndRecreate('Client', OPAQUE_CLIENT);
      assert.equal(await apiStatus(token), 401);
      const introspection = await postForm(server, '/auth/introspect', { token }, credentials(OPAQUE_CLIENT));
      assert.equal(introspection.body.active, false);
    });

    test('a Client\'s refresh token and its users\' access tokens are refused after the Client is recreated', async () => {
      const { access, refresh } = await userTokens();
      assert.equal(await apiStatus(access), 403);
      await deleteAndRecreate('Client', APP);
      assert.equal(await apiStatus(access), 401);
      const refreshed = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: refresh }, credentials(APP));
      assert.equal(refreshed.status, 400);
      assert.equal(refreshed.body.error, 'invalid_grant');
    });

    test('a User\'s access and refresh tokens from before the delete are refused after the User is recreated', async () => {
      const { access, refresh } = await userTokens();
      assert.equal(await apiStatus(access), 403);
      await deleteAndRecreate('User', BOB);
      assert.equal(await apiStatus(access), 401);
      const refreshed = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: refresh }, credentials(APP));
      assert.equal(refreshed.body.error, 'invalid_grant');
      const userinfo = await withBearer(server, 'GET', '/auth/userinfo', access);
      assert.equal(userinfo.status, 401);
      assert.equal(await apiStatus((await userTokens()).access), 403, 'the new User signs in afresh');
    });

    test('the delete ends the Sessions: each is a deleted version in its history', async () => {
      const token = await clientToken(JWT_CLIENT);
      const sessionId = decodeJwtPayload(token).sid;
      assert.equal(typeof sessionId, 'string', 'the token names its Session');
      assert.equal((await server.request('GET', `/Session/${sessionId}`)).status, 200);
      assert.equal((await server.request('DELETE', `/Client/${JWT_CLIENT.id}`)).status, 200);
      assert.equal((await server.request('GET', `/Session/${sessionId}`)).status, 410);
      const history = await server.request('GET', `/Session/${sessionId}/_history`);
      assert.equal(history.body.entry[0].request.method, 'DELETE');
      await createClient(server, JWT_CLIENT);
    });

    test('a Client purged from the tables by hand takes its Sessions and tokens with it too', async () => {
      const token = await clientToken(OPAQUE_CLIENT);
      assert.equal(await apiStatus(token), 403);
      for (const table of ['resource', 'resource_history']) {
        await server.app.ctx.db.query(`delete from ${table} where type = 'Client' and id = $1`, [OPAQUE_CLIENT.id]);
      }
      await createClient(server, OPAQUE_CLIENT);
      assert.equal(await apiStatus(token), 401);
    });
  });
}
