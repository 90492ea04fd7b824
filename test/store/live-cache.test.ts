import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Database } from '../../src/store/database.ts';
import { openDatabase } from '../../src/store/open-database.ts';
import { CHANGE_CHANNEL, ChangeFeed } from '../../src/store/change-feed.ts';
import { LiveCache } from '../../src/store/live-cache.ts';
import { ResourceStore, VersionConflict } from '../../src/store/resource-store.ts';
import { writeResourceIndexes } from '../../src/iam/resource-indexes.ts';
import { engines, openTestStore } from '../helpers/server.ts';

interface Process {
  db: Database;
  store: ResourceStore;
  feed: ChangeFeed;
  cache: LiveCache;
}

/** A server process's view of the store: its own connection, ResourceStore, change feed and LiveCache. */
async function processOn(db: Database): Promise<Process> {
  const store = new ResourceStore(db, writeResourceIndexes);
  const feed = new ChangeFeed(db);
  const cache = new LiveCache(db, feed);
  await feed.start(store);
  return { db, store, feed, cache };
}

/** Resolves at the next announcement of `key` on `db`: by then the process listening there has dropped it. */
function announced(db: Database, key: string): Promise<void> {
  return new Promise((resolve) => {
    void db.listen(CHANGE_CHANNEL, (payload) => {
      if (payload === key) resolve();
    });
  });
}

/** Changes a stored resource behind the cache's back: no announcement. */
async function changeSilently(db: Database, type: string, id: string, resource: object) {
  await db.exec('alter table resource disable trigger warden_resource_changed');
  await db.query('update resource set resource = $3::text::jsonb where type = $1 and id = $2', [type, id, JSON.stringify(resource)]);
  await db.exec('alter table resource enable trigger warden_resource_changed');
}

for (const engine of engines()) {
  describe(`LiveCache and createMany (${engine})`, () => {
    let one: Process;
    let url: string | undefined;
    let close: () => Promise<void>;
    /** A second process on the same PostgreSQL database. */
    const open = async () => processOn(await openDatabase({ databaseUrl: url, dataDir: 'memory://' }));
    before(async () => {
      const opened = await openTestStore(engine);
      ({ url, close } = opened);
      one = await processOn(opened.db);
    });
    after(async () => {
      await one.feed.stop();
      await close();
    });

    test('createMany writes every resource and its history in one go', async () => {
      const versions = await one.store.createMany([
        { resourceType: 'Session', id: 'm1', type: 'test' },
        { resourceType: 'Session', id: 'm2', type: 'test' },
      ]);
      assert.deepEqual(versions.map((v) => v.versionId), ['1', '1']);
      assert.equal((await one.store.read('Session', 'm2'))!.resource.type, 'test');
      assert.equal((await one.store.history('Session', 'm1', 10, 0)).total, 1);
    });

    test('createMany with one id already taken is a VersionConflict and writes none of the batch', async () => {
      await assert.rejects(
        one.store.createMany([
          { resourceType: 'Session', id: 'm3' },
          { resourceType: 'Session', id: 'm1' },
        ]),
        VersionConflict,
      );
      assert.equal(await one.store.read('Session', 'm3'), null);
      assert.equal((await one.store.history('Session', 'm1', 10, 0)).total, 1);
    });

    test('a cached resource is served from memory until it changes', async () => {
      await one.store.write({ resourceType: 'Client', id: 'c1', secret: 'first' }, null);
      assert.equal((await one.cache.get('Client', 'c1'))!.secret, 'first');
      await changeSilently(one.db, 'Client', 'c1', { resourceType: 'Client', id: 'c1', secret: 'behind-the-back' });
      assert.equal((await one.cache.get('Client', 'c1'))!.secret, 'first', 'served from the cache');
    });

    test('a write through the store drops the entry before the write returns', async () => {
      const current = await one.store.read('Client', 'c1');
      await one.store.write({ resourceType: 'Client', id: 'c1', secret: 'second' }, current!.versionId);
      assert.equal((await one.cache.get('Client', 'c1'))!.secret, 'second');
      await one.store.write({ resourceType: 'Client', id: 'c1', secret: 'second' }, String(Number(current!.versionId) + 1), true);
      assert.equal(await one.cache.get('Client', 'c1'), null, 'a deleted resource is not live');
    });

    test('a change made by hand in SQL is announced and drops the entry', async () => {
      await one.store.write({ resourceType: 'User', id: 'u1', active: true }, null);
      assert.equal((await one.cache.get('User', 'u1'))!.active, true);
      const dropped = announced(one.db, 'User/u1');
      await one.db.query(`update resource set resource = resource || '{"active": false}' where type = 'User' and id = 'u1'`);
      await dropped;
      assert.equal((await one.cache.get('User', 'u1'))!.active, false);
    });

    test('read answers several at once and leaves out the missing and the deleted', async () => {
      await one.store.write({ resourceType: 'Session', id: 's1' }, null);
      const found = await one.cache.read([
        { type: 'Session', id: 's1' },
        { type: 'User', id: 'u1' },
        { type: 'Client', id: 'c1' },
        { type: 'Client', id: 'nobody' },
      ]);
      assert.deepEqual([...found.keys()].sort(), ['Session/s1', 'User/u1']);
    });

    if (engine === 'postgres') {
      test('a write made by another process returns only once this process has dropped its copy', async () => {
        const other = await open();
        try {
          await one.store.write({ resourceType: 'Client', id: 'shared', secret: 'v1' }, null);
          for (let round = 2; round <= 30; round++) {
            assert.equal((await one.cache.get('Client', 'shared'))!.secret, `v${round - 1}`);
            await other.store.write({ resourceType: 'Client', id: 'shared', secret: `v${round}` }, String(round - 1));
            assert.equal((await one.cache.get('Client', 'shared'))!.secret, `v${round}`, `round ${round}`);
          }
        } finally {
          await other.feed.stop();
          await other.db.close();
        }
      });

      test('a process whose LISTEN connection is cut does not serve what changed meanwhile', async () => {
        const other = await open();
        try {
          await one.store.write({ resourceType: 'Client', id: 'cut', secret: 'v1' }, null);
          assert.equal((await one.cache.get('Client', 'cut'))!.secret, 'v1');
          // Every LISTEN connection of the database; the writer's own comes back at once, as does ours.
          await other.db.query(`select pg_terminate_backend(pid) from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid() and query like 'listen%'`);
          await other.store.write({ resourceType: 'Client', id: 'cut', secret: 'v2' }, '1');
          assert.equal((await one.cache.get('Client', 'cut'))!.secret, 'v2');
        } finally {
          await other.feed.stop();
          await other.db.close();
        }
      });

      test('a process that stops leaves the set of processes a write waits for', async () => {
        const count = async () => Number((await one.db.query<{ n: string }>('select count(*) as n from warden_process'))[0].n);
        const before = await count();
        const gone = await open();
        assert.equal(await count(), before + 1);
        await gone.feed.stop();
        await gone.db.close();
        assert.equal(await count(), before);
      });
    }
  });
}
