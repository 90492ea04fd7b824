import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const ALLOWED = 'https://app.example.com';

for (const engine of engines()) {
  describe(`server endpoints (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { corsOrigins: [ALLOWED] });
    });
    after(() => server.close());

    const preflight = (origin: string) =>
      fetch(`${server.url}/Patient`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization,content-type,if-match' },
      });

    test('a CORS preflight from a configured origin is answered without credentials', async () => {
      const response = await preflight(ALLOWED);
      assert.equal(response.status, 204);
      assert.equal(response.headers.get('access-control-allow-origin'), ALLOWED);
      assert.match(response.headers.get('access-control-allow-methods') ?? '', /PUT/);
      assert.match(response.headers.get('access-control-allow-headers') ?? '', /If-Match/i);
      assert.equal(response.headers.get('access-control-allow-credentials'), null);
    });

    test('a CORS preflight from another origin gets no allow-origin header', async () => {
      const response = await preflight('https://evil.example.com');
      assert.equal(response.headers.get('access-control-allow-origin'), null);
    });

    test('an actual cross-origin request exposes ETag and Location to the browser', async () => {
      const response = await server.request('POST', '/Patient', { body: { resourceType: 'Patient' }, headers: { origin: ALLOWED } });
      assert.equal(response.headers.get('access-control-allow-origin'), ALLOWED);
      assert.match(response.headers.get('access-control-expose-headers') ?? '', /ETag/);
      assert.match(response.headers.get('access-control-expose-headers') ?? '', /Location/);
    });

    test('GET /health answers 200 without credentials once the store is ready', async () => {
      const response = await server.request('GET', '/health', { auth: null });
      assert.equal(response.status, 200);
      assert.deepEqual(response.body, { status: 'pass' });
    });

    test('GET /metadata answers a CapabilityStatement without credentials, claiming what the API does', async () => {
      const response = await server.request('GET', '/metadata', { auth: null });
      assert.equal(response.status, 200);
      const capability = response.body;
      assert.equal(capability.resourceType, 'CapabilityStatement');
      assert.equal(capability.fhirVersion, '4.0.1');
      assert.equal(capability.kind, 'instance');
      // JSON Patch, JSON Merge Patch and FHIRPath Patch (a Parameters body).
      assert.deepEqual(capability.patchFormat, ['application/json-patch+json', 'application/merge-patch+json', 'application/fhir+json']);
      const patient = capability.rest[0].resource.find((resource: any) => resource.type === 'Patient');
      assert.deepEqual(patient.interaction.map((i: any) => i.code).sort(), ['create', 'delete', 'history-instance', 'history-type', 'patch', 'read', 'search-type', 'update', 'vread']);
      const patientParams = patient.searchParam.map((p: any) => p.name);
      for (const name of ['_id', '_lastUpdated', 'name', 'birthdate', 'identifier']) assert.ok(patientParams.includes(name), name);
      const client = capability.rest[0].resource.find((resource: any) => resource.type === 'Client');
      assert.deepEqual(client.searchParam.map((p: any) => p.name).filter((name: string) => !name.startsWith('_')), []);
      assert.equal(patient.versioning, 'versioned-update');
      assert.ok(capability.rest[0].resource.some((resource: any) => resource.type === 'Client'));
      assert.equal(capability.implementation.url, server.url);
    });

    test("every answer carries a request id, the caller's own when it is a plain token", async () => {
      const own = await server.request('GET', '/health', { headers: { 'x-request-id': 'trace-123' } });
      assert.equal(own.headers.get('x-request-id'), 'trace-123');
      const hostile = await server.request('GET', '/health', { headers: { 'x-request-id': 'bad id\twith tab' } });
      assert.match(hostile.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    });
  });
}

describe('health when the store is gone', () => {
  test('GET /health answers 503 when the store does not answer', async () => {
    const server = await startTestServer('pglite');
    try {
      await server.app.ctx.db.close();
      const response = await server.request('GET', '/health', { auth: null });
      assert.equal(response.status, 503);
      assert.equal(response.body.status, 'fail');
    } finally {
      await server.app.server.close();
    }
  });
});
