// Attacks on RFC 8693 token exchange: only a JWT from an issuer the Client trusts (allowedIssuers), verified by
// that issuer's TokenIntrospector, becomes a Warden token (RFC 8693 §5 "Security Considerations"; RFC 7519 §7.2
// validation; RFC 8725 §3.1 and §3.2 on algorithms), and only for a Client that authenticates (RFC 6749 §3.2.1).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { after, before, describe, test } from 'node:test';
import { JWT_RESOURCE, startProvider, type TestProvider } from '../external/provider.ts';
import { attackerKey, hmac, now, unsecured } from '../external/tokens.ts';
import { createClient, createUser, postForm } from '../helpers/oauth.ts';
import { engines, startTestServer, type Response, type TestServer } from '../helpers/server.ts';
import { TOKEN_EXCHANGE } from '../../src/iam/client-model.ts';
import { ACCESS_TOKEN_TYPE } from '../../src/oauth/grants/token-exchange.ts';

const EXCHANGER = { id: 'exchanger', secret: 'exchanger-secret' };
const OTHER_ISSUER = 'https://other-idp.example';
const OTHER_SECRET = 'another-hmac-secret-of-at-least-32-bytes';

function refused(response: Response, error: string, status = 400) {
  assert.equal(response.status, status, response.text);
  assert.equal(response.body.error, error);
  assert.equal(response.body.access_token, undefined);
}

for (const engine of engines()) {
  describe(`token exchange attacks (${engine})`, () => {
    let provider: TestProvider;
    let server: TestServer;
    const claims = (extra: Record<string, unknown> = {}) => ({ iss: provider.issuer, aud: JWT_RESOURCE, box_user: 'victim', exp: now() + 300, ...extra });

    before(async () => {
      provider = await startProvider();
      server = await startTestServer(engine, { externalTokens: { timeoutMs: 5000, clockSkewSeconds: 30, jwksRefetchIntervalSeconds: 30 } });
      for (const [id, body] of Object.entries({
        idp: { type: 'jwt', jwks_uri: provider.jwksUri, jwt: { iss: provider.issuer, aud: JWT_RESOURCE }, speaks_for: [{ resourceType: 'User', id: 'victim' }] },
        other: { type: 'jwt', jwt: { iss: OTHER_ISSUER, secret: OTHER_SECRET, any_audience: true }, speaks_for: [{ resourceType: 'User', id: 'victim' }] },
      })) {
        const response = await server.request('PUT', `/TokenIntrospector/${id}`, { body: { resourceType: 'TokenIntrospector', ...body } });
        assert.ok(response.status < 300, response.text);
      }
      await createClient(server, { ...EXCHANGER, grant_types: [TOKEN_EXCHANGE], allowedIssuers: [provider.issuer] });
      await createUser(server, { id: 'victim', password: 'victim password 12' });
    });
    after(async () => {
      await server?.close();
      await provider?.close();
    });

    const exchange = (subjectToken: string, auth: { id: string; secret: string } | null = EXCHANGER, extra: Record<string, string> = {}) =>
      postForm(server, '/auth/token', { grant_type: TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN_TYPE, ...extra }, auth ?? undefined);

    test('the genuine token works (so the refusals below are about the attack)', async () => {
      const response = await exchange(await provider.sign(claims()));
      assert.equal(response.status, 200, response.text);
    });

    test('RFC 8693 §5: a token of an issuer Warden trusts, but this Client does not list, is invalid_grant', async () => {
      refused(await exchange(await hmac(OTHER_SECRET, { iss: OTHER_ISSUER, box_user: 'victim', exp: now() + 300 })), 'invalid_grant');
    });

    test('RFC 7519 §7.2: a token signed by another key under the trusted issuer is invalid_grant', async () => {
      const attacker = await attackerKey(provider.keys[0].kid);
      refused(await exchange(await attacker.sign(claims())), 'invalid_grant');
    });

    test('RFC 8725 §3.1: an unsecured (alg none) token under the trusted issuer is invalid_grant', async () => {
      refused(await exchange(unsecured(claims())), 'invalid_grant');
    });

    test('RFC 7519 §4.1.4: an expired token is invalid_grant', async () => {
      refused(await exchange(await provider.sign(claims({ exp: now() - 3600 }))), 'invalid_grant');
    });

    test('Warden\'s own token is not exchanged unless its issuer is listed', async () => {
      await createClient(server, { id: 'cc', secret: 'cc-secret', grant_types: ['client_credentials'] });
      const own = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, { id: 'cc', secret: 'cc-secret' });
      refused(await exchange(own.body.access_token), 'invalid_grant');
    });

    test('RFC 6749 §3.2.1: without client authentication the exchange is invalid_client', async () => {
      refused(await exchange(await provider.sign(claims()), null, { client_id: EXCHANGER.id }), 'invalid_client', 401);
      refused(await exchange(await provider.sign(claims()), { id: EXCHANGER.id, secret: 'wrong' }), 'invalid_client', 401);
    });

    test('a subject token that is not a JWT never reaches the opaque introspectors: invalid_grant', async () => {
      refused(await exchange('not-a-jwt-at-all'), 'invalid_grant');
    });

    test('property: no subject_token, type or extra parameter makes a 5xx; each is an RFC 6749 error', async () => {
      const jwtLike = fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map((parts) => parts.join('.'));
      const header = fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value)).toString('base64url'));
      const decodable = fc.tuple(header, header).map(([head, body]) => `${head}.${body}.sig`);
      const types = fc.oneof(fc.constant(ACCESS_TOKEN_TYPE), fc.constant('urn:ietf:params:oauth:token-type:jwt'), fc.string());
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.string(), jwtLike, decodable), types, fc.dictionary(fc.constantFrom('scope', 'audience', 'requested_token_type', 'resource'), fc.string()), async (token, type, extra) => {
          const response = await postForm(server, '/auth/token', { ...extra, grant_type: TOKEN_EXCHANGE, subject_token: token, subject_token_type: type }, EXCHANGER);
          assert.ok(response.status >= 400 && response.status < 500, `${response.status} ${response.text}`);
          assert.equal(typeof response.body.error, 'string');
        }),
        { numRuns: 100 },
      );
    });
  });
}
