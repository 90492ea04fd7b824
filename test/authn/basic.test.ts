import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertOutcome } from '../helpers/outcome.ts';
import { engines, ROOT, startTestServer, type TestServer } from '../helpers/server.ts';

const CHALLENGE = /^Basic realm="warden"/;

for (const engine of engines()) {
  describe(`Basic authentication (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
    });
    after(() => server.close());

    const asHeader = (authorization: string) => server.request('GET', '/Patient', { auth: null, headers: { authorization } });

    function assertChallenge(response: Awaited<ReturnType<typeof asHeader>>, diagnostics: RegExp) {
      assertOutcome(response, 401, diagnostics);
      assert.match(response.headers.get('www-authenticate') ?? '', CHALLENGE);
    }

    test("the root client's id and secret are accepted", async () => {
      assert.equal((await server.request('GET', '/Patient')).status, 200);
    });

    test('a wrong secret answers 401 with WWW-Authenticate', async () => {
      assertChallenge(await server.request('GET', '/Patient', { auth: { id: ROOT.id, secret: 'wrong' } }), /Invalid client credentials/);
    });

    test('an unknown client id answers 401 with WWW-Authenticate, the same answer as a wrong secret', async () => {
      const unknown = await server.request('GET', '/Patient', { auth: { id: 'nobody', secret: ROOT.secret } });
      assertChallenge(unknown, /Invalid client credentials/);
    });

    test('no credentials answer 401 with WWW-Authenticate', async () => {
      assertChallenge(await server.request('GET', '/Patient', { auth: null }), /Authentication required/);
    });

    test('malformed Basic headers answer 401 with WWW-Authenticate', async () => {
      assertChallenge(await asHeader('Basic'), /Malformed Basic credentials/);
      assertChallenge(await asHeader('Basic !!!not-base64'), /Malformed Basic credentials: not base64/);
      assertChallenge(await asHeader(`Basic ${Buffer.from('no-colon').toString('base64')}`), /expected base64\("client_id:client_secret"\)/);
      assertChallenge(await asHeader(`Basic ${Buffer.from(':secret-only').toString('base64')}`), /Malformed Basic credentials/);
      assertChallenge(await asHeader('Digest username="root"'), /Unsupported authorization scheme "Digest"/);
    });

    test('a client without the basic grant cannot use Basic', async () => {
      await server.request('PUT', '/Client/no-basic', { body: { resourceType: 'Client', secret: 'nb-secret', grant_types: ['client_credentials'] } });
      assertChallenge(await server.request('GET', '/Patient', { auth: { id: 'no-basic', secret: 'nb-secret' } }), /Invalid client credentials/);
    });

    test('a form-encoded id and secret (RFC 6749 §2.3.1) are accepted', async () => {
      await server.request('PUT', '/Client/form-enc', { body: { resourceType: 'Client', secret: 'a b:c', grant_types: ['basic'] } });
      const response = await server.request('GET', '/Patient', { auth: { id: 'form-enc', secret: 'a+b%3Ac' } });
      assert.equal(response.status, 403, 'authenticated, then refused by the root-only stub');
    });

    test('a changed secret takes effect at once: the old one is refused, the new one accepted', async () => {
      await server.request('PUT', '/Client/rotating', { body: { resourceType: 'Client', secret: 'old-secret', grant_types: ['basic'] } });
      assert.equal((await server.request('GET', '/Patient', { auth: { id: 'rotating', secret: 'old-secret' } })).status, 403);
      await server.request('PATCH', '/Client/rotating', { raw: JSON.stringify({ secret: 'new-secret' }), contentType: 'application/merge-patch+json' });
      assertChallenge(await server.request('GET', '/Patient', { auth: { id: 'rotating', secret: 'old-secret' } }), /Invalid client credentials/);
      assert.equal((await server.request('GET', '/Patient', { auth: { id: 'rotating', secret: 'new-secret' } })).status, 403);
    });

    test('a deleted client is refused at once, even after a successful login', async () => {
      await server.request('PUT', '/Client/short-lived', { body: { resourceType: 'Client', secret: 'sl-secret', grant_types: ['basic'] } });
      assert.equal((await server.request('GET', '/Patient', { auth: { id: 'short-lived', secret: 'sl-secret' } })).status, 403);
      await server.request('DELETE', '/Client/short-lived');
      assertChallenge(await server.request('GET', '/Patient', { auth: { id: 'short-lived', secret: 'sl-secret' } }), /Invalid client credentials/);
    });

    test("the root client's own secret changed through the API takes effect at once", async () => {
      const isolated = await startTestServer(engine);
      try {
        const rotated = await isolated.request('PATCH', `/Client/${ROOT.id}`, { raw: JSON.stringify({ secret: 'rotated-root' }), contentType: 'application/merge-patch+json' });
        assert.equal(rotated.status, 200, rotated.text);
        assertChallenge(await isolated.request('GET', '/Patient'), /Invalid client credentials/);
        assert.equal((await isolated.request('GET', '/Patient', { auth: { id: ROOT.id, secret: 'rotated-root' } })).status, 200);
      } finally {
        await isolated.close();
      }
    });
  });
}
