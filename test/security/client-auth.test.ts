// Client authentication attacked (RFC 6749 §2.3, RFC 7523 §3, OWASP ASVS 5.0 V6 and V11.4): long-lived client
// assertions, stored hashes that would make every login expensive, and answers that tell clients apart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createClient, postForm } from '../helpers/oauth.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** A hash in Aidbox's format with the given scrypt parameters (salt and key are well-formed, the key is wrong). */
const hashWith = (log2n: number, r: number, p: number) =>
  `$s0$${((log2n << 16) | (r << 8) | p).toString(16)}$${Buffer.alloc(16, 1).toString('base64')}$${Buffer.alloc(32, 2).toString('base64')}`;

for (const engine of engines()) {
  describe(`client authentication under attack (${engine})`, () => {
    let server: TestServer;
    let privateKey: CryptoKey;
    before(async () => {
      server = await startTestServer(engine);
      const pair = await generateKeyPair('ES256');
      privateKey = pair.privateKey as CryptoKey;
      await createClient(server, { id: 'signer', grant_types: ['client_credentials'], jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }] } });
    });
    after(() => server.close());

    const now = () => Math.floor(Date.now() / 1000);
    const assertion = (claims: { exp: number; iat?: number }) =>
      new SignJWT({ jti: crypto.randomUUID(), ...(claims.iat !== undefined && { iat: claims.iat }) })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer('signer').setSubject('signer').setAudience(`${server.url}/auth/token`)
        .setExpirationTime(claims.exp)
        .sign(privateKey);
    const authenticate = async (claims: { exp: number; iat?: number }) =>
      postForm(server, '/auth/token', { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await assertion(claims) });

    describe('private_key_jwt lifetimes (RFC 7523 §3)', () => {
      test('an assertion made for this request (exp two minutes ahead) authenticates', async () => {
        const response = await authenticate({ iat: now(), exp: now() + 120 });
        assert.equal(response.status, 200, response.text);
      });

      test('an assertion whose exp lies days ahead is refused: it would be a long-lived bearer credential (§3 item 4)', async () => {
        const response = await authenticate({ iat: now(), exp: now() + 7 * 86_400 });
        assert.equal(response.status, 401);
        assert.equal(response.body.error, 'invalid_client');
        assert.match(response.body.error_description, /exp/);
      });

      test('an assertion issued in the future (iat an hour ahead) is refused', async () => {
        const response = await authenticate({ iat: now() + 3600, exp: now() + 120 });
        assert.equal(response.status, 401);
        assert.equal(response.body.error, 'invalid_client');
      });
    });

    describe('stored hashes with absurd cost parameters (ASVS 5.0 V11.4.2)', () => {
      test('a Client secret or User password given as an scrypt hash of huge cost is refused with 400', async () => {
        for (const [log2n, r, p] of [[20, 16, 1], [17, 16, 1], [15, 8, 255], [31, 8, 1]]) {
          const client = await server.request('PUT', '/Client/costly', { body: { resourceType: 'Client', secret: hashWith(log2n, r, p), grant_types: ['basic'] } });
          assert.equal(client.status, 400, `N=2^${log2n} r=${r} p=${p}: ${client.text}`);
          assert.equal(client.body.resourceType, 'OperationOutcome');
          assert.deepEqual(client.body.issue[0].expression, ['Client.secret']);
          const user = await server.request('PUT', '/User/costly', { body: { resourceType: 'User', password: hashWith(log2n, r, p) } });
          assert.equal(user.status, 400, `N=2^${log2n} r=${r} p=${p}: ${user.text}`);
        }
        assert.equal((await server.request('GET', '/Client/costly')).status, 404, 'nothing was stored');
      });

      test('a hash of ordinary cost (Aidbox\'s, N=2^14 r=8 p=1) is stored as given', async () => {
        const response = await server.request('PUT', '/Client/imported', { body: { resourceType: 'Client', secret: hashWith(14, 8, 1), grant_types: ['basic'] } });
        assert.ok(response.status < 300, response.text);
      });
    });

    test('a client with a secret of another client\'s id fails like an unknown one (ASVS 5.0 V6.3.8)', async () => {
      await createClient(server, { id: 'known', secret: 'known-secret', grant_types: ['client_credentials'] });
      const post = (id: string, secret: string) => postForm(server, '/auth/token', { grant_type: 'client_credentials', client_id: id, client_secret: secret });
      const known = await post('known', 'wrong');
      const unknown = await post('unknown', 'known-secret');
      assert.equal(known.status, 401);
      assert.deepEqual(unknown.body, known.body);
      assert.equal(unknown.headers.get('www-authenticate'), known.headers.get('www-authenticate'));
    });
  });
}
