// Where sql policies run: a read-only transaction that is always rolled back, so nothing a query does
// (a setting, a write a function attempts) outlives it, under a statement timeout on PostgreSQL, and as role
// warden_policy, which may read the resources and their search index and nothing else (migration 0010):
// not the signing keys, tokens or throttle counters. It reads the resources through the view
// warden_policy.resource (migrations 0030, 0082), without TokenIntrospectors and IdentityProviders and without
// Client secret, User password hashes and User two-factor keys; schema warden_policy comes first on the search path, so policies still say `from resource`.
// PGlite runs inside this process and has no timer to cancel a statement with: `statement_timeout` is ignored,
// and a query that runs for minutes stalls every request of the process. Measured there (0.5.16, a 300-row
// table): counting generate_series(1, 1e8) took 105 s, a recursive CTE to 1e8 185 s, a 300³ cross join 6 s,
// sorting 3e6 rows 11 s. What bounds it, per query, on PGlite:
//   - work_mem 1MB and temp_file_limit 8MB: whatever materialises rows (a set-returning function, a recursive
//     CTE, a sort, a hash) spills past work_mem and fails at the limit, SQLSTATE 53400, within about a second;
//   - the planner cost, checked before every run, not only when written (MAX_PLAN_COST): a join that was cheap
//     on an empty table is refused once the tables have grown (the cross join above: cost 406145);
//   - functions that build huge values from nothing (repeat, lpad, rpad, array_fill) are refused when the
//     policy is compiled (engines/sql.ts): repeat('x', 2e8) took 10 s and 200 MB with no row at all.
// Every bound fails closed: the policy denies.
import type { Database, Queryable } from '../store/database.ts';
import type { SqlRunner } from './policy.ts';

export const SQL_POLICY_TIMEOUT_MS = 1000;
/** Largest planner cost a policy query may have: a policy runs on every request it applies to. */
export const MAX_PLAN_COST = 100_000;
/** Working memory and temporary file space of a policy query on PGlite (see above). */
const PGLITE_WORK_MEM = '1MB';
const PGLITE_TEMP_FILE_LIMIT = '8MB';

/** A policy query whose plan costs more than MAX_PLAN_COST; it is not run. */
export class PolicyQueryTooCostly extends Error {
  constructor(readonly cost: number) {
    super(`query is too costly to run on every request (planner cost ${Math.round(cost)} > ${MAX_PLAN_COST})`);
  }
}

/** The total cost of an `explain (format json)` answer. */
export function planCost(plan: unknown): number {
  const parsed = typeof plan === 'string' ? JSON.parse(plan) : plan;
  return Number((parsed as { Plan?: { 'Total Cost'?: number } }[])?.[0]?.Plan?.['Total Cost']);
}
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
  `grant select on search_string, search_token, search_reference, search_date, search_quantity, search_text, search_position to ${POLICY_ROLE}`,
  `create schema if not exists ${POLICY_SCHEMA}`,
  `create or replace view ${POLICY_SCHEMA}.resource with (security_barrier) as select type, id, version_id, last_updated, deleted, resource - array['secret', 'password', 'twoFactor'] as resource from public.resource where type not in ('TokenIntrospector', 'IdentityProvider')`,
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
        // temp_file_limit may be set only by a superuser, which the embedded store's user is.
        else {
          await tx.query(`set local work_mem = '${PGLITE_WORK_MEM}'`);
          await tx.query(`set local temp_file_limit = '${PGLITE_TEMP_FILE_LIMIT}'`);
        }
        await tx.query(`set local search_path = ${POLICY_SCHEMA}, public`);
        await tx.query(`set local role ${POLICY_ROLE}`);
        // A policy's query is always `select (...)` (engines/sql.ts); only verifySql's own EXPLAIN starts otherwise.
        if (db.engine !== 'postgres' && !query.startsWith('explain')) {
          const [plan] = await tx.query(`explain (format json) ${query}`, params, { prepare: false });
          const cost = planCost(Object.values(plan)[0]);
          if (cost > MAX_PLAN_COST) throw new PolicyQueryTooCostly(cost);
        }
        const [row] = await tx.query(query, params, { prepare: false });
        return row ? Object.values(row)[0] : null;
      });
    },
  };
}
