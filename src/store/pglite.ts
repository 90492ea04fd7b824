// The embedded engine: PostgreSQL compiled to WebAssembly, in this process, with its files in a folder.
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { checkStorableParams, type Database, type Queryable, type QueryOptions, type Row } from './database.ts';
import { lockEmbeddedStore } from './embedded-lock.ts';

/** Opens the store in `dataDir`; an in-memory store may start as a copy of `seed`, a dump made by `dumpPglite`. */
export async function openPglite(dataDir: string, seed?: Blob): Promise<Database> {
  let unlock = () => {};
  if (dataDir !== 'memory://') {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockEmbeddedStore(dataDir);
  }
  let db: PGlite;
  try {
    db = dataDir === 'memory://' ? await PGlite.create({ loadDataDir: seed }) : await PGlite.create(dataDir);
  } catch (error) {
    unlock();
    throw error;
  }

  const queryable = (q: Pick<PGlite, 'query' | 'exec'>): Queryable => ({
    async query<T extends Row>(text: string, params: unknown[] = [], options: QueryOptions = {}) {
      if (!options.textsHaveNoNul) checkStorableParams(params);
      return (await q.query<T>(text, params)).rows;
    },
    async exec(script: string) {
      await q.exec(script);
    },
  });

  const database: Database = {
    engine: 'pglite',
    ...queryable(db),
    transaction: (work) => db.transaction((tx) => work(queryable(tx))),
    async listen(channel, onMessage, onListen) {
      await db.listen(channel, onMessage);
      onListen?.();
    },
    async notify(channel, payload) {
      await db.query('select pg_notify($1, $2)', [channel, payload]);
    },
    async close() {
      await db.close();
      unlock();
    },
  };
  handles.set(database, db);
  return database;
}

const handles = new WeakMap<Database, PGlite>();

/** A copy of an embedded store's files, from which `openPglite` can start a new in-memory store quickly. */
export async function dumpPglite(database: Database): Promise<Blob> {
  const db = handles.get(database);
  if (!db) throw new Error('not an embedded store');
  return db.dumpDataDir('none');
}
