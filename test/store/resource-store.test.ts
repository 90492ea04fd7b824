import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Database } from '../../src/store/database.ts';
import { loadMigrations, migrate } from '../../src/store/migrations.ts';
import { ResourceStore, VersionConflict } from '../../src/store/resource-store.ts';
import { writeResourceIndexes } from '../../src/iam/resource-indexes.ts';
import { engines, openTestStore } from '../helpers/server.ts';

for (const engine of engines()) {
  describe(`ResourceStore and the Database contract (${engine})`, () => {
    let db: Database;
    let store: ResourceStore;
    let close: () => Promise<void>;
    before(async () => {
      ({ db, close } = await openTestStore(engine));
      store = new ResourceStore(db, writeResourceIndexes);
    });
    after(() => close());

    test('migrations are applied once: a second run applies none', async () => {
      assert.deepEqual(await migrate(db), []);
      const rows = await db.query<{ version: number }>('select version from warden_migration order by version');
      assert.deepEqual(rows.map((row) => Number(row.version)), loadMigrations().map((m) => m.version));
    });

    test('write with null creates version 1; writing it again with null is a VersionConflict', async () => {
      const version = await store.write({ resourceType: 'Patient', id: 's1' }, null);
      assert.equal(version.versionId, '1');
      await assert.rejects(store.write({ resourceType: 'Patient', id: 's1' }, null), VersionConflict);
      assert.equal((await store.read('Patient', 's1'))!.versionId, '1');
    });

    test('a write naming a version that is not current is a VersionConflict and writes no history', async () => {
      await store.write({ resourceType: 'Patient', id: 's2' }, null);
      await store.write({ resourceType: 'Patient', id: 's2', active: true }, '1');
      await assert.rejects(store.write({ resourceType: 'Patient', id: 's2', active: false }, '1'), VersionConflict);
      assert.equal((await store.history('Patient', 's2', 10, 0)).total, 2);
      assert.equal((await store.read('Patient', 's2'))!.resource.active, true);
    });

    test('the stored resource carries meta.versionId and meta.lastUpdated, and keeps other meta', async () => {
      const version = await store.write({ resourceType: 'Patient', id: 's3', meta: { versionId: '7', profile: ['p'] } }, null);
      assert.equal(version.resource.meta!.versionId, '1');
      assert.deepEqual(version.resource.meta!.profile, ['p']);
      assert.equal(version.resource.meta!.lastUpdated, version.lastUpdated);
      assert.deepEqual((await store.vread('Patient', 's3', '1'))!.resource, version.resource);
    });

    test('a failed transaction leaves nothing behind', async () => {
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query(`insert into resource (type, id, version_id, last_updated, resource) values ('Patient', 'tx', 1, now(), '{}')`);
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await store.read('Patient', 'tx'), null);
    });

    test('vread refuses a non-numeric version id without asking the database to cast it', async () => {
      assert.equal(await store.vread('Patient', 's1', '1; drop table resource'), null);
      assert.equal(await store.vread('Patient', 's1', '99999999999999999999'), null);
    });

    test('text with quotes, backslashes and unicode round-trips unchanged', async () => {
      const text = `it's "quoted" \\ back\\slash \u00e9\u4e2d\ud83d\ude00 $1 $$`;
      await store.write({ resourceType: 'Patient', id: 's4', text }, null);
      assert.equal((await store.read('Patient', 's4'))!.resource.text, text);
    });

    test('many concurrent writers from the same version: exactly one wins', async () => {
      await store.write({ resourceType: 'Patient', id: 's5' }, null);
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => store.write({ resourceType: 'Patient', id: 's5', n: i }, '1')),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.ok(results.every((r) => r.status === 'fulfilled' || r.reason instanceof VersionConflict));
      assert.equal((await store.history('Patient', 's5', 10, 0)).total, 2);
    });

    test('listen receives what notify sends', async () => {
      let deliver!: (payload: string) => void;
      const received = new Promise<string>((resolve) => (deliver = resolve));
      await db.listen('warden_test', (payload) => deliver(payload));
      await db.notify('warden_test', 'hello');
      assert.equal(await received, 'hello');
    });
  });
}
