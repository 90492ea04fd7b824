// What a start no longer loads up front (the IAM resources' JSON Schemas, the CapabilityStatement and the search
// parameter definitions it reads, the validation definitions) is loaded by the first request that needs it: the
// first requests after a start, sent at once, are answered as any later one would be.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { processStore, spawnServer } from '../helpers/process.ts';
import { engines, request } from '../helpers/server.ts';

for (const engine of engines()) {
  describe(`the first requests after a start (${engine})`, () => {
    test('a write is validated, an IAM resource checked by its schema, a search uses its parameter', async () => {
      const { env, cleanup } = await processStore(engine);
      const server = await spawnServer(env);
      try {
        const url = server.url;
        // All at once, as soon as the server answers, so that each may be the one that loads what it needs.
        const [invalid, client, created, metadata] = await Promise.all([
          request(url, 'POST', '/Patient', { body: { resourceType: 'Patient', birthDate: 'not a date' } }),
          request(url, 'PUT', '/Client/lazy-start', { body: { resourceType: 'Client', secret: 'a-long-enough-secret', unknownSetting: true } }),
          request(url, 'PUT', '/Patient/lazy-start', { body: { resourceType: 'Patient', name: [{ family: 'Lazystart' }], birthDate: '1970-01-01' } }),
          request(url, 'GET', '/metadata'),
        ]);
        assert.equal(invalid.status, 422, invalid.text);
        assert.match(invalid.text, /birthDate/);
        assert.equal(client.status, 422, client.text);
        assert.match(client.text, /unknownSetting/);
        assert.equal(created.status, 201, created.text);
        assert.equal(metadata.status, 200, metadata.text);
        const patient = metadata.body.rest[0].resource.find((resource: { type: string }) => resource.type === 'Patient');
        assert.ok(patient.searchParam.some((parameter: { name: string }) => parameter.name === 'family'));

        const found = await request(url, 'GET', '/Patient?family=lazystart&birthdate=1970-01-01');
        assert.equal(found.status, 200, found.text);
        assert.deepEqual(found.body.entry.map((entry: { resource: { id: string } }) => entry.resource.id), ['lazy-start']);
        const none = await request(url, 'GET', '/Patient?family=lazystart&birthdate=1971');
        assert.equal(none.body.total ?? none.body.entry?.length ?? 0, 0);
      } finally {
        server.child.kill('SIGTERM');
        await server.exited;
        await cleanup();
      }
    });
  });
}
