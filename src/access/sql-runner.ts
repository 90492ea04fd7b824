// Where sql policies run: a read-only transaction that is always rolled back, so nothing a query does
// (a setting, a write a function attempts) outlives it, under a statement timeout on PostgreSQL, and as role
// warden_policy, which may read the resources and their search index and nothing else (migration 0010):
// not the signing keys, tokens or throttle counters. It reads the resources through the view
// warden_policy.resource (migration 0030), without TokenIntrospectors and without Client secret and User
// password hashes; schema warden_policy comes first on the search path, so policies still say `from resource`.
// PGlite runs inside this process and has no timer to cancel a statement with; there the write-time checks
// (no sleeping or locking functions, a bounded planner cost) are the bound.
import type { Database, Queryable } from '../store/database.ts';
import type { SqlRunner } from './policy.ts';

export const SQL_POLICY_TIMEOUT_MS = 1000;
export const POLICY_ROLE = 'warden_policy';
/** The schema of the view policies read the resources through (migration 0030). */
const POLICY_SCHEMA = 'warden_policy';

/** Policy SQL cannot be confined on this database, so it is not run at all. */
export class SqlPoliciesUnavailable extends Error {}

class Rollback extends Error {}

/** Runs `work` in a transaction that is always rolled back; returns what it returned. */
async function rolledBack<T>(db: Database, work: (tx: Queryable) => Promise<T>): Promise<T> {
  let value: T | undefined;
  try {
    await db.transaction(async (tx) => {
      value = await work(tx);
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
  return value as T;
}

/** What a database administrator runs once, in Warden's database, when Warden's user could not do it itself. */
export const POLICY_ROLE_SETUP = [
  `create role ${POLICY_ROLE} nologin`,
  `grant ${POLICY_ROLE} to <warden's user>`,
  `grant usage on schema public to ${POLICY_ROLE}`,
  `grant select on search_string, search_token, search_reference, search_date, search_quantity to ${POLICY_ROLE}`,
  `create schema if not exists ${POLICY_SCHEMA}`,
  `create or replace view ${POLICY_SCHEMA}.resource with (security_barrier) as select type, id, version_id, last_updated, deleted, resource - array['secret', 'password'] as resource from public.resource where type <> 'TokenIntrospector'`,
  `revoke all on public.resource, public.resource_history from ${POLICY_ROLE}`,
  `grant usage on schema ${POLICY_SCHEMA} to ${POLICY_ROLE}`,
  `grant select on ${POLICY_SCHEMA}.resource to ${POLICY_ROLE}`,
  `grant execute on function pg_catalog.set_config(text, text, boolean) to <warden's user>`,
  `revoke execute on function pg_catalog.set_config(text, text, boolean) from public`,
].join('; ');

const problems = new WeakMap<Database, Promise<string | null>>();

/**
 * Why policy SQL cannot be confined on this database, or null when it can: the server's user must be able to
 * take role warden_policy, and that role must read the resources through the view without credentials, not the
 * resource table itself, not the signing keys, and not be able to call set_config (with which it could take
 * the server's user back). Checked once per database.
 */
export function policyConfinementProblem(db: Database): Promise<string | null> {
  let known = problems.get(db);
  if (!known) {
    known = rolledBack(db, async (tx) => {
      await tx.query(`set local role ${POLICY_ROLE}`);
      const [row] = await tx.query<{ view: boolean; table: boolean; history: boolean; keys: boolean; set_config: boolean }>(
        `select to_regclass('${POLICY_SCHEMA}.resource') is not null and has_table_privilege('${POLICY_SCHEMA}.resource', 'select') as view,
                has_table_privilege('public.resource', 'select') as table,
                has_table_privilege('public.resource_history', 'select') as history,
                has_table_privilege('signing_key', 'select') as keys,
                has_function_privilege('pg_catalog.set_config(text, text, boolean)', 'execute') as set_config`,
      );
      if (!row.view) return `role ${POLICY_ROLE} may not read the view ${POLICY_SCHEMA}.resource`;
      if (row.table || row.history) return `role ${POLICY_ROLE} may read the credentials in public.resource${row.history ? '_history' : ''}`;
      if (row.keys) return `role ${POLICY_ROLE} may read signing_key`;
      if (row.set_config) return `role ${POLICY_ROLE} may call set_config()`;
      return null;
    })
      .catch((error: Error) => `the database user cannot take role ${POLICY_ROLE} (${error.message})`)
      .then((problem) => problem && `${problem}; to turn them on, run once as a superuser: ${POLICY_ROLE_SETUP}`);
    problems.set(db, known);
  }
  return known;
}

export function sqlRunner(db: Database): SqlRunner {
  return {
    async run(query, params) {
      const problem = await policyConfinementProblem(db);
      if (problem) throw new SqlPoliciesUnavailable(`SQL policies are off on this server: ${problem}`);
      return rolledBack(db, async (tx) => {
        await tx.query('set transaction read only');
        if (db.engine === 'postgres') await tx.query(`set local statement_timeout = ${SQL_POLICY_TIMEOUT_MS}`);
        await tx.query(`set local search_path = ${POLICY_SCHEMA}, public`);
        await tx.query(`set local role ${POLICY_ROLE}`);
        const [row] = await tx.query(query, params, { prepare: false });
        return row ? Object.values(row)[0] : null;
      });
    },
  };
}
