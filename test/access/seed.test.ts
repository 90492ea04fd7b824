// The seed's Basic-auth client and its AccessPolicy, posted as YAML exactly as the Aidbox docs show them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const CLIENT_YAML = `id: api-consumer
secret: verysecretstring
grant_types:
  - basic
`;

const POLICY_YAML = `id: for-api-consumer
link:
  - resourceType: Client
    id: api-consumer
engine: json-schema
schema:
  type: object
  properties:
    request-method: { constant: 'get' }
    uri: { enum: ['/Patient', 'Encounter'] }
`;

const consumer = { id: 'api-consumer', secret: 'verysecretstring' };

for (const engine of engines()) {
  describe(`the seed's API consumer policy (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      const client = await server.request('POST', '/Client', { raw: CLIENT_YAML, contentType: 'text/yaml' });
      assert.equal(client.status, 201, client.text);
      const policy = await server.request('POST', '/AccessPolicy', { raw: POLICY_YAML, contentType: 'text/yaml' });
      assert.equal(policy.status, 201, policy.text);
    });
    after(() => server.close());

    test('GET /Patient is allowed', async () => {
      const response = await server.request('GET', '/Patient', { auth: consumer });
      assert.equal(response.status, 200, response.text);
      assert.equal(response.body.resourceType, 'Bundle');
    });

    test('POST /Patient is denied with 403 and an OperationOutcome', async () => {
      const response = await server.request('POST', '/Patient', { auth: consumer, body: { resourceType: 'Patient' } });
      assert.equal(response.status, 403);
      assert.equal(response.body.resourceType, 'OperationOutcome');
      assert.equal(response.body.issue[0].code, 'forbidden');
      assert.match(response.body.issue[0].diagnostics, /api-consumer.*POST \/Patient/);
    });

    test('GET /Observation is denied', async () => {
      const response = await server.request('GET', '/Observation', { auth: consumer });
      assert.equal(response.status, 403);
    });

    test('GET /Patient/{id} is denied: the uri enum names /Patient only', async () => {
      await server.request('PUT', '/Patient/p1', { body: { resourceType: 'Patient' } });
      const response = await server.request('GET', '/Patient/p1', { auth: consumer });
      assert.equal(response.status, 403);
    });

    test('without credentials the same read is 401 with a Basic challenge', async () => {
      const response = await server.request('GET', '/Patient', { auth: null });
      assert.equal(response.status, 401);
      assert.equal(response.body.resourceType, 'OperationOutcome');
      assert.match(response.headers.get('www-authenticate') ?? '', /^Basic/);
    });

    test('another client with no policy is denied with 403', async () => {
      await server.request('PUT', '/Client/other', { body: { resourceType: 'Client', secret: 's3cret', grant_types: ['basic'] } });
      const response = await server.request('GET', '/Patient', { auth: { id: 'other', secret: 's3cret' } });
      assert.equal(response.status, 403);
    });

    test('public endpoints stay open', async () => {
      assert.equal((await server.request('GET', '/metadata', { auth: null })).status, 200);
    });
  });
}
