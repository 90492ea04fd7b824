// The store view a caller's handlers get (src/access/confined-resources.ts): a confined read is one query, and
// nothing out of sight is read, listed or written through it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { confinedResources, type ResourceView } from '../../src/access/confined-resources.ts';
import type { Database } from '../../src/store/database.ts';
import { writeResourceIndexes } from '../../src/iam/resource-indexes.ts';
import { ResourceStore } from '../../src/store/resource-store.ts';
import { engines, openTestStore } from '../helpers/server.ts';

const BASE = 'http://warden.test';
const observation = (id: string, patient: string) => ({ resourceType: 'Observation', id, status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${patient}` } });

for (const engine of engines()) {
  describe(`the confined store view (${engine})`, () => {
    let db: Database;
    let close: () => Promise<void>;
    let queries = 0;
    let view: ResourceView;

    before(async () => {
      ({ db, close } = await openTestStore(engine));
      const counted: Database = { ...db, query: (...args: Parameters<Database['query']>) => (queries++, db.query(...args)) } as Database;
      const store = new ResourceStore(counted, writeResourceIndexes);
      for (const resource of [{ resourceType: 'Patient', id: 'pa' }, { resourceType: 'Patient', id: 'pb' }, observation('oa', 'pa'), observation('ob', 'pb'), observation('gone', 'pb')]) {
        await store.write(resource, null);
      }
      const gone = await store.read('Observation', 'gone');
      await store.write(gone!.resource, gone!.versionId, true);
      view = confinedResources(store, { visibility: [{ patient: 'pa', constraints: [] }] }, BASE);
    });
    after(() => close());

    test('a read inside the confinement is one query', async () => {
      queries = 0;
      assert.equal((await view.read('Observation', 'oa'))?.resource.id, 'oa');
      assert.equal(queries, 1);
    });

    test('a read outside is not found, also in one query, and find() answers null', async () => {
      queries = 0;
      await assert.rejects(view.read('Observation', 'ob'), (error: { status?: number }) => error.status === 404);
      assert.equal(queries, 1);
      assert.equal(await view.find('Observation', 'ob'), null);
      assert.equal(await view.find('Observation', 'gone'), null, "another patient's deleted resource");
      assert.equal(await view.read('Observation', 'never'), null, 'what never existed is simply absent');
    });

    test('search, history and versions show only what is in sight', async () => {
      const { resources } = await view.search('Observation', { count: 10, offset: 0, sort: 'id', total: false });
      assert.deepEqual(resources.map((resource) => resource.id), ['oa']);
      assert.equal((await view.history('Observation', 'gone', 10, 0)).total, 0);
      assert.equal(await view.vread('Observation', 'ob', '1'), null);
      assert.equal((await view.vread('Observation', 'oa', '1'))?.resource.id, 'oa');
    });

    test('a write that would put a resource out of sight is refused with 403', async () => {
      await assert.rejects(view.write(observation('new', 'pb'), null), (error: { status?: number }) => error.status === 403);
      assert.equal((await view.write(observation('new', 'pa'), null)).resource.id, 'new');
    });
  });
}
