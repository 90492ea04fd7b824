// Versioned schema migrations, applied in order at start. A migration, once released, never changes:
// a new change is a new entry at the end.
import type { Database } from './database.ts';

export const migrations: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'resources and their history',
    sql: `
      create table resource (
        type          text        not null,
        id            text        not null,
        version_id    bigint      not null,
        last_updated  timestamptz not null,
        deleted       boolean     not null default false,
        resource      jsonb       not null,
        primary key (type, id)
      );
      create index resource_type_last_updated on resource (type, last_updated, id) where not deleted;

      create table resource_history (
        type          text        not null,
        id            text        not null,
        version_id    bigint      not null,
        last_updated  timestamptz not null,
        deleted       boolean     not null,
        resource      jsonb       not null,
        primary key (type, id, version_id)
      );
    `,
  },
];

/** Applies the migrations this database has not seen yet; several processes starting at once apply each once. */
export async function migrate(db: Database): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(7243001)`);
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
