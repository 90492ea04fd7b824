import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { verifySecret } from '../../src/iam/password-hash.ts';
import { assertOutcome } from '../helpers/outcome.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const HASH = /^\$s0\$f0801\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/;
const SEED_CLIENT_HASH = '$s0$f0801$4z6uTgJ3vF2dDPMhnT5Weg==$15LXbNYov+ByAsQgzHwXWIBWck7rdQGtMIEgMxC2Bko=';

for (const engine of engines()) {
  describe(`Client and User secrets are stored only hashed (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
    });
    after(() => server.close());

    /** What the store holds for a resource, every version, read past the API. */
    async function storedVersions(type: string, id: string): Promise<string[]> {
      const rows = await server.app.ctx.db.query<{ resource: string }>(
        'select resource::text as resource from resource_history where type = $1 and id = $2',
        [type, id],
      );
      const current = await server.app.ctx.db.query<{ resource: string }>('select resource::text as resource from resource where type = $1 and id = $2', [type, id]);
      return [...rows, ...current].map((row) => row.resource);
    }

    test('POST /Client hashes the secret; the answer, a read and the store never hold it plain', async () => {
      const created = await server.request('POST', '/Client', { body: { resourceType: 'Client', id: 'c-post', secret: 'plain-post-secret', grant_types: ['basic'] } });
      assert.equal(created.status, 201, created.text);
      assert.match(created.body.secret, HASH);
      assert.ok(await verifySecret('plain-post-secret', created.body.secret));
      const read = await server.request('GET', '/Client/c-post');
      assert.doesNotMatch(read.text, /plain-post-secret/);
      assert.doesNotMatch((await server.request('GET', '/Client/c-post/_history')).text, /plain-post-secret/);
      for (const stored of await storedVersions('Client', 'c-post')) assert.doesNotMatch(stored, /plain-post-secret/);
    });

    test('PUT /Client hashes the new secret on create and on update', async () => {
      const created = await server.request('PUT', '/Client/c-put', { body: { resourceType: 'Client', secret: 'first-put-secret', grant_types: ['basic'] } });
      assert.match(created.body.secret, HASH);
      const updated = await server.request('PUT', '/Client/c-put', { body: { resourceType: 'Client', secret: 'second-put-secret', grant_types: ['basic'] } });
      assert.equal(updated.status, 200);
      assert.ok(await verifySecret('second-put-secret', updated.body.secret));
      for (const stored of await storedVersions('Client', 'c-put')) assert.doesNotMatch(stored, /first-put-secret|second-put-secret/);
    });

    test('PATCH /Client hashes a secret set by merge patch and by JSON Patch', async () => {
      await server.request('PUT', '/Client/c-patch', { body: { resourceType: 'Client', secret: 'before', grant_types: ['basic'] } });
      const merged = await server.request('PATCH', '/Client/c-patch', { raw: JSON.stringify({ secret: 'merge-patched-secret' }), contentType: 'application/merge-patch+json' });
      assert.equal(merged.status, 200, merged.text);
      assert.ok(await verifySecret('merge-patched-secret', merged.body.secret));
      const jsonPatched = await server.request('PATCH', '/Client/c-patch', {
        raw: JSON.stringify([{ op: 'replace', path: '/secret', value: 'json-patched-secret' }]),
        contentType: 'application/json-patch+json',
      });
      assert.ok(await verifySecret('json-patched-secret', jsonPatched.body.secret));
      for (const stored of await storedVersions('Client', 'c-patch')) assert.doesNotMatch(stored, /merge-patched-secret|json-patched-secret/);
    });

    test('a PATCH that leaves the secret alone keeps the stored hash as is', async () => {
      const created = await server.request('PUT', '/Client/c-keep', { body: { resourceType: 'Client', secret: 'kept', grant_types: ['basic'] } });
      const patched = await server.request('PATCH', '/Client/c-keep', { raw: JSON.stringify({ name: 'renamed' }), contentType: 'application/merge-patch+json' });
      assert.equal(patched.body.secret, created.body.secret);
    });

    test('an existing $s0$ hash (exported from Aidbox) is stored as is, and its secret authenticates', async () => {
      const created = await server.request('PUT', '/Client/web-app', { body: { resourceType: 'Client', secret: SEED_CLIENT_HASH, grant_types: ['basic'] } });
      assert.equal(created.body.secret, SEED_CLIENT_HASH);
      const asWebApp = await server.request('GET', '/Patient', { auth: { id: 'web-app', secret: 'client-secret' } });
      assert.equal(asWebApp.status, 403, 'authenticated (then refused by the root-only access stub)');
    });

    test('User.password is hashed on POST, PUT and PATCH and never returned plain', async () => {
      const created = await server.request('POST', '/User', { body: { resourceType: 'User', id: 'u1', password: 'user-post-password', email: 'u1@example.com' } });
      assert.equal(created.status, 201, created.text);
      assert.ok(await verifySecret('user-post-password', created.body.password));
      const put = await server.request('PUT', '/User/u1', { body: { resourceType: 'User', password: 'user-put-password' } });
      assert.ok(await verifySecret('user-put-password', put.body.password));
      const patched = await server.request('PATCH', '/User/u1', { raw: JSON.stringify({ password: 'user-patch-password' }), contentType: 'application/merge-patch+json' });
      assert.ok(await verifySecret('user-patch-password', patched.body.password));
      for (const stored of await storedVersions('User', 'u1')) assert.doesNotMatch(stored, /user-(post|put|patch)-password/);
    });

    test('a Client with an unknown grant type is refused with 422 naming it, and nothing is written', async () => {
      const response = await server.request('POST', '/Client', { body: { resourceType: 'Client', id: 'c-bad-grant', secret: 's', grant_types: ['basic', 'magic'] } });
      assertOutcome(response, 422, /Client\.grant_types\.1 must be one of "basic"/);
      assert.equal((await server.request('GET', '/Client/c-bad-grant')).status, 404);
    });

    test('a Client with an unknown property is refused with 422 naming it', async () => {
      const response = await server.request('PUT', '/Client/c-extra', { body: { resourceType: 'Client', secret: 's', colour: 'blue' } });
      assertOutcome(response, 422, /Client\.colour unknown property "colour"/);
      assert.equal(response.body.issue[0].expression[0], 'Client.colour');
      assert.equal((await server.request('GET', '/Client/c-extra')).status, 404);
    });

    test('a Client whose secret is not a string, or an empty one, is refused', async () => {
      assertOutcome(await server.request('PUT', '/Client/c-num', { body: { resourceType: 'Client', secret: 42 } }), 422, /Client\.secret must be string/);
      assertOutcome(await server.request('PUT', '/Client/c-empty', { body: { resourceType: 'Client', secret: '' } }), 422, /Client\.secret/);
    });

    test('a PATCH that makes a Client malformed is refused and the Client stays as it was', async () => {
      await server.request('PUT', '/Client/c-patch-bad', { body: { resourceType: 'Client', secret: 's', grant_types: ['basic'] } });
      const response = await server.request('PATCH', '/Client/c-patch-bad', { raw: JSON.stringify({ grant_types: ['nope'] }), contentType: 'application/merge-patch+json' });
      assertOutcome(response, 422, /grant_types/);
      const read = await server.request('GET', '/Client/c-patch-bad');
      assert.deepEqual(read.body.grant_types, ['basic']);
      assert.equal(read.body.meta.versionId, '1');
    });

    test('a User with a malformed email is refused with 422', async () => {
      assertOutcome(await server.request('PUT', '/User/u-bad', { body: { resourceType: 'User', email: 'not an email' } }), 422, /User\.email must match pattern/);
    });

    test("the seed's YAML Client with client_credentials settings is accepted", async () => {
      const yaml = 'id: api-consumer\nsecret: verysecretstring\ngrant_types:\n  - client_credentials\nauth:\n  client_credentials:\n    access_token_expiration: 3600 # in seconds\n    access_token_format: jwt\n';
      const response = await server.request('POST', '/Client', { raw: yaml, contentType: 'text/yaml' });
      assert.equal(response.status, 201, response.text);
      assert.equal(response.body.auth.client_credentials.access_token_expiration, 3600);
    });
  });
}
