// Where sql policies run: a read-only transaction that is always rolled back, so nothing a query does
// (a setting, a write a function attempts) outlives it, under a statement timeout on PostgreSQL.
// PGlite runs inside this process and has no timer to cancel a statement with; there the write-time checks
// (no sleeping or locking functions, a bounded planner cost) are the bound.
import type { Database } from '../store/database.ts';
import type { SqlRunner } from './policy.ts';

export const SQL_POLICY_TIMEOUT_MS = 1000;

class Rollback extends Error {}

export function sqlRunner(db: Database): SqlRunner {
  return {
    async run(query, params) {
      let value: unknown = null;
      try {
        await db.transaction(async (tx) => {
          await tx.query('set transaction read only');
          if (db.engine === 'postgres') await tx.query(`set local statement_timeout = ${SQL_POLICY_TIMEOUT_MS}`);
          const [row] = await tx.query(query, params, { prepare: false });
          value = row ? Object.values(row)[0] : null;
          throw new Rollback();
        });
      } catch (error) {
        if (!(error instanceof Rollback)) throw error;
      }
      return value;
    },
  };
}
