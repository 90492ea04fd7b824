// The warning at start about a store that slows a long-running server: given when, and only when, PostgreSQL's
// autovacuum is off (the setting is read from the server itself, so each case is checked against the truth).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Database } from '../../src/store/database.ts';
import { maintenanceWarnings } from '../../src/store/maintenance-check.ts';
import { engines, openTestStore } from '../helpers/server.ts';

for (const engine of engines()) {
  describe(`maintenance warnings at start (${engine})`, () => {
    let db: Database;
    let close: () => Promise<void>;

    before(async () => {
      ({ db, close } = await openTestStore(engine));
    });
    after(() => close());

    test(engine === 'postgres' ? 'a warning names autovacuum exactly when the server runs without it' : 'none for the embedded store', async () => {
      const warnings = await maintenanceWarnings(db);
      if (engine !== 'postgres') return assert.deepEqual(warnings, []);
      const [{ autovacuum }] = await db.query<{ autovacuum: string }>('show autovacuum');
      if (autovacuum === 'on') assert.deepEqual(warnings, []);
      else assert.match(warnings.join('\n'), /autovacuum off.*turn autovacuum on/);
    });
  });
}
