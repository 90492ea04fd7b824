// The production engine: a PostgreSQL server reached through the `postgres` client.
import postgres from 'postgres';
import { checkStorableParams, type Database, type Queryable, type QueryOptions, type Row } from './database.ts';
import { storePoolSize, storeQueriesInFlight } from '../observe/metrics.ts';

type Client = Pick<postgres.Sql, 'unsafe'>;

const POOL_SIZE = 10;

/** Counts `work` in the store-pool gauge while it runs. */
async function counted<T>(work: () => Promise<T>): Promise<T> {
  storeQueriesInFlight.inc();
  try {
    return await work();
  } finally {
    storeQueriesInFlight.dec();
  }
}

export async function openPostgres(url: string): Promise<Database> {
  const sql = postgres(url, { max: POOL_SIZE, onnotice: () => {}, connection: { application_name: 'warden' } });
  storePoolSize.set(POOL_SIZE);
  await sql`select 1`; // fail at start, not at the first request, when the server is unreachable
  // The heartbeat's connection commits without waiting for its WAL flush: a heartbeat lost in a crash is
  // harmless (the process is gone too), and one that waits behind other writers' flushes arrives late.
  const heartbeat = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: 'warden heartbeat', synchronous_commit: 'off' } });

  const queryable = (client: Client): Queryable => ({
    async query<T extends Row>(text: string, params: unknown[] = [], options: QueryOptions = {}) {
      if (!options.textsHaveNoNul) checkStorableParams(params);
      const prepare = options.prepare ?? true;
      return (await counted(() => client.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare }))) as unknown as T[];
    },
    async exec(script: string) {
      await client.unsafe(script);
    },
  });

  return {
    engine: 'postgres',
    ...queryable(sql),
    heartbeat: queryable(heartbeat),
    transaction: async (work) => (await counted(() => sql.begin((tx) => work(queryable(tx))))) as Awaited<ReturnType<typeof work>>,
    async listen(channel, onMessage, onListen) {
      await sql.listen(channel, onMessage, onListen);
    },
    async notify(channel, payload) {
      await sql.notify(channel, payload);
    },
    close: async () => {
      await Promise.all([sql.end({ timeout: 5 }), heartbeat.end({ timeout: 5 })]);
    },
  };
}
