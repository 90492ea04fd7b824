import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { ensureRootClient } from '../../src/iam/root-client.ts';
import { verifySecret } from '../../src/iam/password-hash.ts';
import type { Database } from '../../src/store/database.ts';
import { ResourceStore } from '../../src/store/resource-store.ts';
import { writeResourceIndexes } from '../../src/iam/resource-indexes.ts';
import { engines, openTestStore, startTestServer } from '../helpers/server.ts';

for (const engine of engines()) {
  describe(`the root client (${engine})`, () => {
    test('WARDEN_ROOT_CLIENT_ID/_SECRET make a root client that authenticates with Basic', async () => {
      const { rootClient } = loadConfig({ WARDEN_ROOT_CLIENT_ID: 'warden-admin', WARDEN_ROOT_CLIENT_SECRET: 'warden-admin-secret' });
      const server = await startTestServer(engine, { rootClient });
      try {
        assert.equal((await server.request('GET', '/Patient', { auth: { id: 'warden-admin', secret: 'warden-admin-secret' } })).status, 200);
        const stored = await server.request('GET', '/Client/warden-admin', { auth: { id: 'warden-admin', secret: 'warden-admin-secret' } });
        assert.ok(await verifySecret('warden-admin-secret', stored.body.secret));
        assert.doesNotMatch(stored.text, /warden-admin-secret/);
      } finally {
        await server.close();
      }
    });

    test("Aidbox's BOX_ROOT_CLIENT_ID/_SECRET make the root client too", async () => {
      const { rootClient } = loadConfig({ BOX_ROOT_CLIENT_ID: 'box-admin', BOX_ROOT_CLIENT_SECRET: 'box-admin-secret' });
      const server = await startTestServer(engine, { rootClient });
      try {
        assert.equal((await server.request('GET', '/Patient', { auth: { id: 'box-admin', secret: 'box-admin-secret' } })).status, 200);
        assert.equal((await server.request('GET', '/Patient', { auth: { id: 'box-admin', secret: 'wrong' } })).status, 401);
      } finally {
        await server.close();
      }
    });

    describe('at each start', () => {
      let db: Database;
      let resources: ResourceStore;
      let close: () => Promise<void>;
      before(async () => {
        ({ db, close } = await openTestStore(engine));
        resources = new ResourceStore(db, writeResourceIndexes);
      });
      after(() => close());

      test('it is created, left unchanged when nothing changed, and updated when the secret changed', async () => {
        assert.equal(await ensureRootClient(resources, { id: 'boot', secret: 'one' }), 'created');
        assert.equal(await ensureRootClient(resources, { id: 'boot', secret: 'one' }), 'unchanged');
        assert.equal((await resources.read('Client', 'boot'))!.versionId, '1');
        assert.equal(await ensureRootClient(resources, { id: 'boot', secret: 'two' }), 'updated');
        const current = await resources.read('Client', 'boot');
        assert.equal(current!.versionId, '2');
        assert.ok(await verifySecret('two', current!.resource.secret as string));
      });

      test('an existing client of that id gets the basic and client_credentials grants back, keeping its own', async () => {
        await resources.write({ resourceType: 'Client', id: 'boot2', secret: 'x', grant_types: ['password'], name: 'kept' }, null);
        assert.equal(await ensureRootClient(resources, { id: 'boot2', secret: 'x' }), 'updated');
        const client = (await resources.read('Client', 'boot2'))!.resource;
        assert.deepEqual(client.grant_types, ['password', 'basic', 'client_credentials']);
        assert.equal(client.name, 'kept');
      });

      test('a deleted root client is created again', async () => {
        await ensureRootClient(resources, { id: 'boot3', secret: 's' });
        const current = (await resources.read('Client', 'boot3'))!;
        await resources.write(current.resource, current.versionId, true);
        assert.equal(await ensureRootClient(resources, { id: 'boot3', secret: 's' }), 'created');
        assert.equal((await resources.read('Client', 'boot3'))!.deleted, false);
      });
    });
  });
}
