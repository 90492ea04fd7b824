// Token substitution and JWT handling of Warden's own tokens: what an attacker holding one kind of credential
// (an ID token, a refresh token, a code, an access token) tries to pass off as another, and what it tries with
// the signature of a token it holds. Raw HTTP against a real server, on both engines. RFC 8725 (JWT BCP), RFC
// 9068 §4 (JWT access tokens are typed at+jwt and validated as such), OIDC Core §2 (an ID token is for the
// client, not a credential for the API), RFC 6749 §1.5 and §6 (a refresh token is only for the token endpoint).
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, generateKeyPairSync, sign as rsaSign } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { CookieBrowser } from '../helpers/browser.ts';
import { postForm } from '../helpers/oauth.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { ALICE, CLIENTS, seed, signIn } from '../oauth/authorize-fixtures.ts';

const PORTAL = { id: CLIENTS.portal.id, secret: CLIENTS.portal.secret };
const PORTAL_CALLBACK = 'https://portal.example/cb';

const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decoded = (segment: string) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));

for (const engine of engines()) {
  describe(`token substitution and JWT handling (${engine})`, () => {
    let server: TestServer;
    /** A code's exchange by the first-party portal for Alice: access, refresh and ID token, and the spent code. */
    let tokens: { access_token: string; refresh_token: string; id_token: string; code: string };

    const api = (token: string) => server.request('GET', '/Patient', { auth: null, headers: { authorization: `Bearer ${token}` } });
    const userinfo = (token: string) => server.request('GET', '/auth/userinfo', { auth: null, headers: { authorization: `Bearer ${token}` } });
    const refused = (response: { status: number; text: string; headers: Headers }, what: string) => {
      assert.equal(response.status, 401, `${what}: ${response.status} ${response.text}`);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer /, what);
      assert.doesNotMatch(response.text, /"resourceType":"Bundle"/, what);
    };

    before(async () => {
      server = await startTestServer(engine);
      await seed(server);
      const allowed = await server.request('PUT', '/AccessPolicy/alice-reads', {
        body: { resourceType: 'AccessPolicy', engine: 'matcho', link: [{ resourceType: 'User', id: ALICE.id }], matcho: { 'request-method': 'get' } },
      });
      assert.ok(allowed.status < 300, allowed.text);
      const browser = new CookieBrowser(server.url);
      const signedIn = await signIn(browser, `/auth/authorize?${new URLSearchParams({ client_id: 'portal', response_type: 'code', state: 's', nonce: 'n', scope: 'openid', redirect_uri: PORTAL_CALLBACK })}`);
      const redirected = await browser.get(signedIn.location!);
      const code = new URL(redirected.location!).searchParams.get('code')!;
      const exchanged = await postForm(server, '/auth/token', { grant_type: 'authorization_code', code, redirect_uri: PORTAL_CALLBACK }, PORTAL);
      assert.equal(exchanged.status, 200, exchanged.text);
      tokens = { ...exchanged.body, code };
      assert.ok(tokens.access_token && tokens.refresh_token && tokens.id_token);
    });
    after(() => server.close());

    test('control: the access token reads the API and userinfo', async () => {
      assert.equal((await api(tokens.access_token)).status, 200);
      assert.equal((await userinfo(tokens.access_token)).status, 200);
    });

    // OIDC Core §2, RFC 8725 §2.8 and §3.11 (cross-JWT confusion; explicit typing), RFC 9068 §4: the ID token is
    // signed with the same key as access tokens, so only its type and audience keep it off the API.
    test('an ID token is no access token: refused by the API and userinfo, inactive at introspection', async () => {
      assert.equal(decoded(tokens.id_token.split('.')[0]).kid, decoded(tokens.access_token.split('.')[0]).kid, 'same signing key');
      refused(await api(tokens.id_token), 'the API');
      assert.equal((await userinfo(tokens.id_token)).status, 401);
      const introspected = await postForm(server, '/auth/introspect', { token: tokens.id_token }, PORTAL);
      assert.deepEqual(introspected.body, { active: false });
    });

    // RFC 6749 §1.5, §10.4: a refresh token goes only to the token endpoint; a code is redeemed, never presented.
    test('a refresh token or an authorization code presented as a Bearer token is refused', async () => {
      refused(await api(tokens.refresh_token), 'refresh token');
      refused(await api(tokens.code), 'code');
      assert.equal((await userinfo(tokens.refresh_token)).status, 401);
    });

    test('an access token or an ID token is no refresh token, and an ID token is no code (RFC 6749 §6, §4.1.3)', async () => {
      for (const token of [tokens.access_token, tokens.id_token]) {
        const refreshed = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: token }, PORTAL);
        assert.equal(refreshed.status, 400, refreshed.text);
        assert.equal(refreshed.body.error, 'invalid_grant');
      }
      const redeemed = await postForm(server, '/auth/token', { grant_type: 'authorization_code', code: tokens.id_token, redirect_uri: PORTAL_CALLBACK }, PORTAL);
      assert.equal(redeemed.body.error, 'invalid_grant');
    });

    // RFC 8725 §2.1, §3.1: the algorithm is Warden's to choose, not the token's. The classic confusion signs
    // HS256 with the server's published public key as the HMAC secret.
    test("Warden's access token re-signed with HS256 and the published public key, or unsigned (alg none), is refused", async () => {
      const [header, payload] = tokens.access_token.split('.');
      const { kid } = decoded(header);
      const jwks = (await server.request('GET', '/.well-known/jwks.json', { auth: null })).body as { keys: Record<string, unknown>[] };
      const jwk = jwks.keys.find((key) => key.kid === kid)!;
      const pem = createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      for (const secret of [pem, JSON.stringify(jwk)]) {
        const hsHeader = part({ ...decoded(header), alg: 'HS256' });
        refused(await api(`${hsHeader}.${payload}.${createHmac('sha256', secret).update(`${hsHeader}.${payload}`).digest('base64url')}`), 'HS256');
      }
      for (const alg of ['none', 'None', 'NONE']) refused(await api(`${part({ ...decoded(header), alg })}.${payload}.`), `alg ${alg}`);
    });

    // RFC 8725 §3.10 (embedded keys), RFC 7515 §4.1.3, §4.1.5: a key the token brings with it, or points at, is not
    // Warden's key, whatever kid it claims.
    test("a token signed by the attacker's key and carrying it as jwk or jku, under Warden's kid, is refused", async () => {
      const [header, payload] = tokens.access_token.split('.');
      const claims = { ...decoded(payload), sub: 'root', client_id: 'root', scope: 'system/*.cruds' };
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const forge = (extra: Record<string, unknown>) => {
        const signingInput = `${part({ ...decoded(header), alg: 'RS256', ...extra })}.${part(claims)}`;
        return `${signingInput}.${rsaSign('sha256', Buffer.from(signingInput), privateKey).toString('base64url')}`;
      };
      refused(await api(forge({ jwk: publicKey.export({ format: 'jwk' }) })), 'embedded jwk');
      refused(await api(forge({ jku: `${server.url}/.well-known/jwks.json` })), 'jku');
      refused(await api(forge({})), "Warden's kid");
    });

    test('a claim changed under the original signature is refused: the client, the subject, the expiry', async () => {
      const [header, payload, signature] = tokens.access_token.split('.');
      const claims = decoded(payload);
      for (const changed of [{ client_id: 'root' }, { sub: 'root' }, { exp: claims.exp + 86_400 }, { scope: 'system/*.cruds' }]) {
        refused(await api(`${header}.${part({ ...claims, ...changed })}.${signature}`), JSON.stringify(changed));
      }
      assert.equal((await api(tokens.access_token)).status, 200, 'the genuine token still works');
    });
  });
}
