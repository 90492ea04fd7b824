// The IdentityProvider fields that shape a sign-in, each seen at work over real HTTP against a scripted provider:
// `system` (the identifier of the provider's users), `toScim` (User fields from claims), `userinfo-source`
// (id-token: the userinfo endpoint is not called), and `client.auth-method` client_secret_post. The attacks on the
// same flow are in test/security/federation.test.ts; the whole flow in Chromium in test/e2e/federation.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CookieBrowser } from '../helpers/browser.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { SCRIPTED_CLIENT, startScriptedIdp, type ScriptedIdp } from './scripted-idp.ts';

const now = () => Math.floor(Date.now() / 1000);

for (const engine of engines()) {
  describe(`IdentityProvider fields at work (${engine})`, () => {
    let server: TestServer;
    let idp: ScriptedIdp;

    before(async () => {
      [server, idp] = await Promise.all([startTestServer(engine), startScriptedIdp()]);
    });
    after(() => Promise.all([server?.close(), idp?.close()]));

    /** A whole sign-in through provider `id`: the provider answers an id_token with `claims` and userinfo `userinfo`. */
    async function signIn(id: string, claims: Record<string, unknown>, userinfo: Record<string, unknown> = { sub: claims.sub }) {
      const browser = new CookieBrowser(server.url);
      const start = await browser.get(`/auth/redirect/${id}`);
      assert.equal(start.status, 303, start.text);
      const authorize = new URL(start.location!);
      const nonce = authorize.searchParams.get('nonce')!;
      idp.userinfo = userinfo;
      idp.tokenResponse = async () => ({
        status: 200,
        body: {
          access_token: 'provider-access-token',
          token_type: 'Bearer',
          expires_in: 300,
          id_token: await idp.sign({ iss: idp.issuer, aud: SCRIPTED_CLIENT.id, nonce, iat: now(), exp: now() + 300, ...claims }),
        },
      });
      const callback = await browser.get(`/auth/callback/${id}?code=c&state=${authorize.searchParams.get('state')}`);
      assert.equal(callback.status, 200, callback.text);
      assert.ok(browser.cookies.has('warden_session'));
    }

    async function userWith(system: string, value: string) {
      const users = await server.request('GET', '/User?_count=1000');
      const found = (users.body.entry ?? []).map((entry: { resource: any }) => entry.resource).filter((user: any) => user.identifier?.some((id: any) => id.system === system && id.value === value));
      assert.equal(found.length, 1, JSON.stringify(found));
      return found[0];
    }

    test('`system` names the identifier of the provider\'s users, and `toScim` fills User fields from claims', async () => {
      const put = await server.request('PUT', '/IdentityProvider/mapped', {
        body: idp.provider('mapped', {
          system: 'https://hospital.example/staff',
          toScim: { userName: ['preferred_username'], name: { givenName: ['given_name'], familyName: ['family_name'] }, data: { department: ['org', 'dept'] } },
        }),
      });
      assert.equal(put.status, 201, put.text);
      await signIn('mapped', { sub: 'u-100' }, { sub: 'u-100', preferred_username: 'hmills', given_name: 'Hana', family_name: 'Mills', org: { dept: 'cardiology' } });
      const user = await userWith('https://hospital.example/staff', 'u-100');
      assert.equal(user.userName, 'hmills');
      assert.deepEqual(user.name, { givenName: 'Hana', familyName: 'Mills' });
      assert.equal(user.data.department, 'cardiology');
      assert.equal(user.data.preferred_username, 'hmills', 'the claims are kept in data too');

      // The next sign-in updates the mapped fields from the provider's current claims.
      await signIn('mapped', { sub: 'u-100' }, { sub: 'u-100', preferred_username: 'hmills', given_name: 'Hana', family_name: 'Mills-Ode', org: { dept: 'oncology' } });
      const updated = await userWith('https://hospital.example/staff', 'u-100');
      assert.equal(updated.id, user.id);
      assert.equal(updated.name.familyName, 'Mills-Ode');
      assert.equal(updated.data.department, 'oncology');
    });

    test('userinfo-source id-token: the claims come from the id_token alone, the userinfo endpoint is not called', async () => {
      await server.request('PUT', '/IdentityProvider/token-only', { body: idp.provider('token-only', { 'userinfo-source': 'id-token' }) });
      idp.userinfoRequests = 0;
      await signIn('token-only', { sub: 'u-200', name: 'From The Token' }, { sub: 'u-200', name: 'From Userinfo' });
      assert.equal(idp.userinfoRequests, 0);
      assert.equal((await userWith(idp.issuer, 'u-200')).data.name, 'From The Token');

      // By default the userinfo endpoint is read, and its claims win.
      await server.request('PUT', '/IdentityProvider/with-userinfo', { body: idp.provider('with-userinfo') });
      await signIn('with-userinfo', { sub: 'u-201', name: 'From The Token' }, { sub: 'u-201', name: 'From Userinfo' });
      assert.equal(idp.userinfoRequests, 1);
      assert.equal((await userWith(idp.issuer, 'u-201')).data.name, 'From Userinfo');
    });

    test('client.auth-method client_secret_post sends the client secret in the body, not in a Basic header', async () => {
      await server.request('PUT', '/IdentityProvider/post', {
        body: idp.provider('post', { client: { id: SCRIPTED_CLIENT.id, secret: SCRIPTED_CLIENT.secret, 'auth-method': 'client_secret_post' } }),
      });
      idp.tokenRequests.length = 0;
      await signIn('post', { sub: 'u-300' });
      const [request] = idp.tokenRequests;
      assert.equal(request.authorization, undefined);
      assert.equal(request.params.get('client_id'), SCRIPTED_CLIENT.id);
      assert.equal(request.params.get('client_secret'), SCRIPTED_CLIENT.secret);
    });
  });
}
