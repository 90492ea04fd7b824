// A new version rewrites only the index rows that changed: rows it keeps are the same tuples (no dead index
// entries gather under a value many resources share), rows it lost are gone, rows it gained are there, in every
// index table, and a deleted resource has none.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { writeResourceIndexes } from '../../src/iam/resource-indexes.ts';
import { extractIndexRows } from '../../src/search/extract.ts';
import type { Database } from '../../src/store/database.ts';
import { ResourceStore, type Resource } from '../../src/store/resource-store.ts';
import { engines, openTestStore } from '../helpers/server.ts';

const TABLES = ['search_string', 'search_token', 'search_reference', 'search_date', 'search_quantity', 'search_text', 'search_position'];

for (const engine of engines()) {
  describe(`index rows of a new version (${engine})`, () => {
    let db: Database;
    let store: ResourceStore;
    let close: () => Promise<void>;
    before(async () => {
      ({ db, close } = await openTestStore(engine));
      store = new ResourceStore(db, writeResourceIndexes);
    });
    after(() => close());

    /** Each table's rows of the resource, by their content, with the tuple holding each. */
    const rowsOf = async (type: string, id: string) => {
      const rows = new Map<string, string>();
      for (const table of TABLES) {
        const found = await db.query<{ row: string; ctid: string }>(
          `select (to_jsonb(t) - 'type' - 'id')::text as row, ctid::text as ctid from ${table} t where type = $1 and id = $2`,
          [type, id],
        );
        for (const { row, ctid } of found) rows.set(`${table} ${row}`, ctid);
      }
      return rows;
    };

    test('a row that stays is not rewritten; lost rows go, new ones come, in every table', async () => {
      const first: Resource = {
        resourceType: 'Observation',
        id: 'o1',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }], text: 'Heart rate' },
        subject: { reference: 'Patient/p1' },
        effectiveDateTime: '2026-11-30T10:00:00Z',
        valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      };
      const written = await store.write(first, null);
      const before = await rowsOf('Observation', 'o1');
      assert.ok(before.size >= 6, [...before.keys()].join('\n'));

      const second = { ...first, status: 'amended', subject: { reference: 'Patient/p2' } };
      await store.write(second, written.versionId);
      const after = await rowsOf('Observation', 'o1');

      const kept = [...before.keys()].filter((row) => after.has(row));
      const lost = [...before.keys()].filter((row) => !after.has(row));
      const gained = [...after.keys()].filter((row) => !before.has(row));
      for (const row of kept) assert.equal(after.get(row), before.get(row), `rewritten though unchanged: ${row}`);
      assert.ok(kept.some((row) => row.startsWith('search_quantity')) && kept.some((row) => row.startsWith('search_date')));
      assert.ok(lost.some((row) => row.includes('"p1"')) && lost.some((row) => row.includes('"final"')), lost.join('\n'));
      assert.ok(gained.some((row) => row.includes('"p2"')) && gained.some((row) => row.includes('"amended"')), gained.join('\n'));
      // What is stored is what the extractor gives for the new version, no more, no less.
      const expected = extractIndexRows(second);
      const count = (Object.values(expected) as unknown[][]).reduce((sum, list) => sum + list.length, 0);
      assert.equal(after.size, count);
    });

    test('a deleted resource keeps no rows', async () => {
      const written = await store.write({ resourceType: 'Patient', id: 'gone', name: [{ family: 'Gone' }], active: true }, null);
      assert.ok((await rowsOf('Patient', 'gone')).size > 0);
      await store.write(written.resource, written.versionId, true);
      assert.equal((await rowsOf('Patient', 'gone')).size, 0);
    });
  });
}
