// Migration 0220: AuditEvents written before it kept their tokens and references as rows of search_token and
// search_reference. The migration turns those rows into the keys the trail now writes (src/search/index-keys.ts):
// the same keys, so that an old event is found as a new one is, and no rows are left.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { restEvent, securityEvent, LOGIN, LOGIN_SUBTYPE } from '../../src/audit/event.ts';
import { auditIndexRows } from '../../src/audit/index-rows.ts';
import { indexKeysOf } from '../../src/search/index-keys.ts';
import { loadMigrations, migrate } from '../../src/store/migrations.ts';
import { openDatabase } from '../../src/store/open-database.ts';
import { createTestDatabase, engines } from '../helpers/server.ts';

for (const engine of engines()) {
  describe(`AuditEvents written before migration 0220 (${engine})`, () => {
    test('get from their index rows the keys a new event gets, and the rows go', async () => {
      const database = engine === 'postgres' ? await createTestDatabase() : undefined;
      const db = await openDatabase({ databaseUrl: database?.url, dataDir: 'memory://' });
      try {
        // The schema as it was before 0220.
        await db.exec('create table warden_migration (version int primary key, name text not null, applied_at timestamptz not null default now())');
        for (const migration of loadMigrations().filter((m) => m.version < 220)) {
          await db.exec(migration.sql);
          await db.query('insert into warden_migration (version, name) values ($1, $2)', [migration.version, migration.name]);
        }
        const events = [
          restEvent({ interaction: 'read', type: 'Patient', id: 'p1', versionId: '2', patients: ['p1'], outcome: '0' }, { clientId: 'app', userId: 'u1', userResource: 'Patient/p1', requestId: 'r1' }),
          restEvent({ interaction: 'search-type', type: 'Observation', patients: [], query: 'code=x', outcome: '0' }, { requestId: 'r2' }),
          securityEvent({ type: LOGIN, subtype: [LOGIN_SUBTYPE], outcome: '4', entities: [{ reference: 'User/u1', name: 'u1' }] }, { clientId: 'app', address: '10.0.0.1' }),
        ];
        for (const event of events) {
          // As the trail wrote them then: the resource, and its rows.
          await db.query(`insert into resource (type, id, version_id, last_updated, deleted, resource) values ('AuditEvent', $1, 1, now(), false, $2::text::jsonb)`, [event.id, JSON.stringify(event)]);
          const rows = auditIndexRows(event);
          for (const row of rows.token) await db.query(`insert into search_token (type, id, code, system, value) values ('AuditEvent', $1, $2, $3, $4)`, [event.id, row.code, row.system, row.value]);
          for (const row of rows.reference) {
            await db.query(`insert into search_reference (type, id, code, target_type, target_id, url) values ('AuditEvent', $1, $2, $3, $4, $5)`, [event.id, row.code, row.target_type, row.target_id, row.url]);
          }
        }
        assert.deepEqual(await migrate(db), loadMigrations().filter((m) => m.version >= 220).map((m) => m.version));
        for (const event of events) {
          const [row] = await db.query<{ keys: string[] }>(`select index_keys as keys from resource where type = 'AuditEvent' and id = $1`, [event.id]);
          assert.deepEqual([...row.keys].sort(), indexKeysOf(auditIndexRows(event)).sort(), event.id);
        }
        const [{ n }] = await db.query<{ n: string }>(
          `select (select count(*) from search_token where type = 'AuditEvent') + (select count(*) from search_reference where type = 'AuditEvent') as n`,
        );
        assert.equal(Number(n), 0);
      } finally {
        await db.close();
        await database?.drop();
      }
    });
  });
}
