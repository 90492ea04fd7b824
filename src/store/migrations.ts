// Versioned schema migrations: the files in migrations/, named NNNN-what.sql, applied in order at start.
// A released migration never changes: a change to the schema is a new file.
import { readdirSync, readFileSync } from 'node:fs';
import type { Database } from './database.ts';

const folder = new URL('./migrations/', import.meta.url);

export function loadMigrations(): { version: number; name: string; sql: string }[] {
  return readdirSync(folder)
    .filter((file) => /^\d{4}-[\w-]+\.sql$/.test(file))
    .map((file) => ({ version: Number(file.slice(0, 4)), name: file, sql: readFileSync(new URL(file, folder), 'utf8') }))
    .sort((a, b) => a.version - b.version);
}

/** Applies the migrations this database has not seen yet; several processes starting at once apply each once. */
export async function migrate(db: Database): Promise<number[]> {
  const migrations = loadMigrations();
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(7243001)');
    await tx.query(`create table if not exists warden_migration (
      version int primary key, name text not null, applied_at timestamptz not null default now())`);
    const done = new Set(
      (await tx.query<{ version: number }>('select version from warden_migration')).map((row) => Number(row.version)),
    );
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await tx.exec(migration.sql);
      await tx.query('insert into warden_migration (version, name) values ($1, $2)', [migration.version, migration.name]);
      applied.push(migration.version);
    }
    return applied;
  });
}
