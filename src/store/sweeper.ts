// Every token issued leaves rows behind: its Session (with a history version), opaque and refresh token
// hashes, client-assertion jtis, codes, failure counters; every request, AuditEvents (kept as long as the audit
// retention says). Without a sweep the store would grow with every token, so each process deletes, on a timer, what no check can need any more. Statements are small batches,
// each its own transaction; two processes sweeping at once only repeat a little work.
import type { Config } from '../config.ts';
import type { Database } from './database.ts';

/** Rows deleted by one statement at most, so a sweep never holds a long transaction or a large lock set. */
const BATCH = 5_000;

/** A statement deleting at most BATCH rows of `table` (keyed by `key`) that meet `condition`, answering how many. */
const expired = (table: string, key: string, condition: string) =>
  `with swept as (
     delete from ${table} where (${key}) in (select ${key} from ${table} where ${condition} limit ${BATCH}) returning 1)
   select count(*)::int as n from swept`;

/**
 * Ended or expired Sessions are kept `sessionRetentionSeconds` for audit, known addresses as long as the throttle
 * remembers them; every other row a day past its own expiry: longer than any clock skew, and than any replay
 * check looks back. (The numbers are validated integers from the configuration, so they are written inline.)
 */
const statements = ({ sweep: { sessionRetentionSeconds: retention }, throttle, audit }: SweptConfig): Record<string, string> => ({
  ...(audit && audit.retentionDays > 0 && { AuditEvent: auditEventsPast(audit.retentionDays, audit.exportUrl !== undefined) }),
  // Ended (deleted) or expired Sessions past their retention, with every version of them.
  Session: `with gone as (
      delete from resource where (type, id) in (
        select type, id from resource where type = 'Session' and last_updated < now() - make_interval(secs => ${retention}) and (
          deleted or (jsonb_typeof(resource->'exp') = 'number' and (resource->>'exp')::numeric < extract(epoch from now()) - ${retention}))
        limit ${BATCH})
      returning type, id),
    history as (delete from resource_history h using gone where h.type = gone.type and h.id = gone.id)
    select count(*)::int as n from gone`,
  oauth_token: expired('oauth_token', 'hash', `expires_at < now() - interval '1 day'`),
  client_assertion_jti: expired('client_assertion_jti', 'client_id, jti', `expires_at < now() - interval '1 day'`),
  authorization_code: expired('authorization_code', 'code_hash', `expires_at < now() - interval '1 day'`),
  smart_launch: expired('smart_launch', 'launch_hash', `expires_at < now() - interval '1 day'`),
  federation_flow: expired('federation_flow', 'binding_hash', `expires_at < now() - interval '1 day'`),
  two_factor_challenge: expired('two_factor_challenge', 'binding_hash', `expires_at < now() - interval '1 day'`),
  auth_failure: expired('auth_failure', 'key', `window_start < now() - interval '1 day'`),
  auth_known_address: expired('auth_known_address', 'identity, address', `last_success < now() - make_interval(secs => ${throttle.knownAddressSeconds})`),
  // Bulk Data exports past their expiry, their output with them (on delete cascade).
  export_job: expired('export_job', 'id', 'expires_at < now()'),
  browser_session: expired('browser_session', 'id_hash', `expires_at < now() - interval '1 day'`),
  browser_session_token: expired(
    'browser_session_token',
    'sid, session_id',
    'not exists (select 1 from browser_session b where b.sid = browser_session_token.sid)',
  ),
});

type SweptConfig = Pick<Config, 'sweep' | 'throttle'> & Partial<Pick<Config, 'audit'>>;

const SEARCH_TABLES = ['search_string', 'search_token', 'search_reference', 'search_date', 'search_quantity', 'search_text', 'search_position'];

/**
 * AuditEvents past their retention, oldest first, as a prefix of the audit hash chain (src/audit/chain.ts): the
 * head row remembers the last link removed, so the verifier can tell this sweep from a deletion. With an external
 * audit repository, only events already sent to it go. Each statement looks at the oldest BATCH links alone (by
 * seq, the chain's key: no link is looked up by its event's id, migration 0210) and removes them up to the last
 * one whose event is past the retention.
 */
function auditEventsPast(days: number, exported: boolean): string {
  return `with
    oldest as (select seq, id from audit_chain order by seq limit ${BATCH}),
    past as (
      select max(o.seq) as seq from oldest o join resource r on r.type = 'AuditEvent' and r.id = o.id
      where r.last_updated < now() - make_interval(days => ${days})
        ${exported ? 'and o.seq <= (select exported_seq from audit_chain_head)' : ''}),
    chain as (delete from audit_chain where seq <= (select seq from past) returning seq, id, hash),
    head as (
      update audit_chain_head set swept_seq = last.seq, swept_hash = last.hash
      from (select seq, hash from chain order by seq desc limit 1) last where last.seq > audit_chain_head.swept_seq),
    current as (delete from resource where type = 'AuditEvent' and id in (select id from chain)),
    history as (delete from resource_history where type = 'AuditEvent' and id in (select id from chain)),
    ${SEARCH_TABLES.map((table) => `${table} as (delete from ${table} where type = 'AuditEvent' and id in (select id from chain))`).join(',\n    ')}
    select count(*)::int as n from chain`;
}

/** Deletes everything expired; answers how many rows of each kind went. */
export async function sweep(db: Database, config: SweptConfig): Promise<Record<string, number>> {
  const deleted: Record<string, number> = {};
  for (const [what, sql] of Object.entries(statements(config))) {
    deleted[what] = 0;
    for (;;) {
      const [{ n }] = await db.query<{ n: number }>(sql);
      deleted[what] += n;
      if (n < BATCH) break;
    }
  }
  await vacuumAsAutovacuumWould(db);
  return deleted;
}

/**
 * PGlite runs no autovacuum, and a PostgreSQL server may have it turned off (`autovacuum = off`, or per table
 * `autovacuum_enabled = false`); there the row versions left by every update and delete (Sessions, counters,
 * resources, their search index rows) were never reclaimed, nor the planner's statistics renewed, and a
 * long-running server slowed down (issue 18 item 6: index scans through dead rows). The sweep applies
 * autovacuum's default thresholds itself to the tables no autovacuum looks after: a table is vacuumed when its
 * dead rows pass 50 + 20% of its live ones, and analyzed when its changes since the last analyze pass 50 + 10%.
 */
async function vacuumAsAutovacuumWould(db: Database): Promise<void> {
  const tables = await db.query<{ name: string; vacuum: boolean }>(
    `select s.relname as name, s.n_dead_tup > 50 + 0.2 * s.n_live_tup as vacuum
     from pg_stat_user_tables s join pg_class c on c.oid = s.relid
     where (s.n_dead_tup > 50 + 0.2 * s.n_live_tup or s.n_mod_since_analyze > 50 + 0.1 * s.n_live_tup)
       and ($1 or current_setting('autovacuum') = 'off' or coalesce(c.reloptions, '{}') @> '{autovacuum_enabled=false}')`,
    [db.engine === 'pglite'],
  );
  for (const { name, vacuum } of tables) await db.exec(`${vacuum ? 'vacuum analyze' : 'analyze'} "${name.replaceAll('"', '""')}"`);
}

/** Sweeps every `intervalSeconds` until the returned function is called; the first sweep is one interval after start. */
export function startSweeping(db: Database, config: SweptConfig, warn: (message: string) => void): () => Promise<void> {
  if (config.sweep.intervalSeconds === 0) return async () => {};
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = sweep(db, config).catch((error: Error) => warn(`sweeping expired tokens and sessions failed: ${error.message}`));
  }, config.sweep.intervalSeconds * 1000).unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
