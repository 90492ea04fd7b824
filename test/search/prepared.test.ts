import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { writeResourceIndexes } from '../../src/iam/resource-indexes.ts';
import { searchFilters } from '../../src/search/query.ts';
import { sortOrder } from '../../src/search/sort.ts';
import type { Database, QueryOptions } from '../../src/store/database.ts';
import { ResourceStore, type SearchQuery } from '../../src/store/resource-store.ts';
import { engines, openTestStore } from '../helpers/server.ts';

// A search is one statement (the total comes with the page), and its SQL text depends on which parameters it
// has, not on their values: the same text is prepared once per connection, so a repeated search is one round
// trip (Bind/Execute) instead of two (Parse/Describe, then Bind/Execute).
for (const engine of engines()) {
  describe(`search statements (${engine})`, () => {
    let db: Database;
    let close: () => Promise<void>;
    const statements: { text: string; options: QueryOptions }[] = [];
    let store: ResourceStore;
    before(async () => {
      ({ db, close } = await openTestStore(engine));
      const counting: Database = {
        ...db,
        query: (text, params, options = {}) => (statements.push({ text, options }), db.query(text, params, options)),
      };
      store = new ResourceStore(counting, writeResourceIndexes);
      for (const [id, patient, date] of [['o1', 'p1', '2020'], ['o2', 'p1', '2021'], ['o3', 'p2', '2022']]) {
        await store.write({ resourceType: 'Observation', id, status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${patient}` }, effectiveDateTime: date }, null);
      }
    });
    after(() => close());

    const query = (patient: string): SearchQuery => ({
      filters: searchFilters('Observation', [['patient', [patient]], ['date', ['ge2019']]], 'http://x', []),
      order: sortOrder('Observation', '-date'),
      count: 10, offset: 0, sort: 'id', total: true,
    });

    test('one statement for the page and its total, prepared, the same text whatever the values', async () => {
      statements.length = 0;
      const first = await store.search('Observation', query('p1'));
      const second = await store.search('Observation', query('p2'));
      assert.deepEqual(first.resources.map((r) => r.id), ['o2', 'o1']);
      assert.equal(first.total, 2);
      assert.equal(second.total, 1);
      assert.equal(statements.length, 2, 'one statement per search');
      assert.equal(statements[0].text, statements[1].text);
      assert.ok(statements.every((statement) => statement.options.prepare === true));
    });

    test('a page past the end still has its total, from a count', async () => {
      const { resources, total } = await store.search('Observation', { ...query('p1'), offset: 10 });
      assert.deepEqual(resources, []);
      assert.equal(total, 2);
    });
  });
}
