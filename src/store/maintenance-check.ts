// What the store's configuration does to a server that runs for long. PostgreSQL without autovacuum never
// reclaims the dead index rows a rewritten resource leaves (each update deletes its rows and writes new ones):
// its updates and the searches that match it then read more pages the longer the server runs (bench/soak.ts
// measured it; README "PostgreSQL"). The operator is told at start.
import type { Database } from './database.ts';

export async function maintenanceWarnings(db: Database): Promise<string[]> {
  if (db.engine !== 'postgres') return [];
  const [row] = await db.query<{ autovacuum: string }>(`select current_setting('autovacuum') as autovacuum`);
  return row.autovacuum === 'on'
    ? []
    : ['PostgreSQL runs with autovacuum off: dead index rows of rewritten resources are never reclaimed, so their updates and searches slow down over time; turn autovacuum on (README "PostgreSQL")'];
}
