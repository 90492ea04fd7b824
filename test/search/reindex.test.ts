import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { writeResourceIndexes } from '../../src/iam/resource-indexes.ts';
import { searchFilters } from '../../src/search/query.ts';
import { reindex, REINDEX_BATCH } from '../../src/search/reindex.ts';
import type { Database } from '../../src/store/database.ts';
import { ResourceStore } from '../../src/store/resource-store.ts';
import { engines, openTestStore } from '../helpers/server.ts';

// Resources written before the index knew a parameter are found by it once reindexed.
for (const engine of engines()) {
  describe(`reindex (${engine})`, () => {
    let db: Database;
    let store: ResourceStore;
    let close: () => Promise<void>;
    before(async () => {
      ({ db, close } = await openTestStore(engine));
      store = new ResourceStore(db, writeResourceIndexes);
    });
    after(() => close());

    const named = async (family: string) => {
      const filters = searchFilters('Practitioner', [['name', [family]]], 'http://x', []);
      return (await store.search('Practitioner', { filters, count: 1000, offset: 0, sort: 'id', total: false })).resources.map((r) => r.id);
    };

    test('rebuilds the rows of every resource, across batches, leaving deleted ones out', async () => {
      const ids = Array.from({ length: REINDEX_BATCH + 5 }, (_, n) => `pr-${String(n).padStart(4, '0')}`);
      for (const id of ids) await store.write({ resourceType: 'Practitioner', id, name: [{ family: 'Reindexed' }] }, null);
      const gone = await store.write({ resourceType: 'Practitioner', id: 'pr-gone', name: [{ family: 'Reindexed' }] }, null);
      await store.write(gone.resource, gone.versionId, true);
      // As if written by a version of the server whose index did not have these rows.
      await db.query("delete from search_string where type = 'Practitioner'");
      assert.deepEqual(await named('reindexed'), []);

      const count = await reindex(db, ['Practitioner']);
      assert.equal(count, ids.length);
      assert.deepEqual(await named('reindexed'), ids);
    });

    test('rebuilds the full-text and position rows', async () => {
      await store.write({ resourceType: 'Location', id: 'loc-r', name: 'Harbour clinic', position: { latitude: 10, longitude: 20 } }, null);
      await store.write({ resourceType: 'Condition', id: 'cond-r', subject: { reference: 'Patient/x' }, text: { status: 'generated', div: '<div>Wheezing</div>' } }, null);
      const ids = async (type: string, name: string, value: string) => {
        const filters = searchFilters(type, [[name, [value]]], 'http://x', []);
        return (await store.search(type, { filters, count: 10, offset: 0, sort: 'id', total: false })).resources.map((r) => r.id);
      };
      await db.query("delete from search_text where type in ('Location', 'Condition')");
      await db.query("delete from search_position where type = 'Location'");
      assert.deepEqual(await ids('Location', 'near', '10|20|1'), []);
      assert.deepEqual(await ids('Location', '_content', 'harbour'), []);
      assert.deepEqual(await ids('Condition', '_text', 'wheezing'), []);
      await reindex(db, ['Location', 'Condition']);
      assert.deepEqual(await ids('Location', 'near', '10|20|1'), ['loc-r']);
      assert.deepEqual(await ids('Location', '_content', 'harbour'), ['loc-r']);
      assert.deepEqual(await ids('Condition', '_text', 'wheezing'), ['cond-r']);
    });

    test('only the types named', async () => {
      await store.write({ resourceType: 'Organization', id: 'org-r', name: 'Org' }, null);
      await db.query("delete from search_string where type = 'Organization'");
      await reindex(db, ['Practitioner']);
      const [row] = await db.query<{ n: number | string }>("select count(*) as n from search_string where type = 'Organization'");
      assert.equal(Number(row.n), 0);
      await reindex(db);
      const [again] = await db.query<{ n: number | string }>("select count(*) as n from search_string where type = 'Organization'");
      assert.ok(Number(again.n) > 0);
    });
  });
}
