// Opens the store, brings its schema up to date, makes the root client and builds the server.
import type { FastifyInstance } from 'fastify';
import { PolicyStore } from './access/policy-store.ts';
import { policyConfinementProblem } from './access/sql-runner.ts';
import type { Config } from './config.ts';
import type { AppContext } from './context.ts';
import { setHashConcurrency } from './iam/password-hash.ts';
import { ensureConsoleAccess } from './console/console-admin.ts';
import { ensureConsoleClient } from './console/console-client.ts';
import { firstStartHints } from './console/first-admin.ts';
import { ensureRootClient } from './iam/root-client.ts';
import { indexUserLogins } from './iam/user-logins.ts';
import { buildServer } from './server.ts';
import { startExporting } from './audit/export.ts';
import { AuditTrail } from './audit/trail.ts';
import type { Database } from './store/database.ts';
import { openDatabase } from './store/open-database.ts';
import { ChangeFeed } from './store/change-feed.ts';
import { LiveCache } from './store/live-cache.ts';
import { migrate } from './store/migrations.ts';
import { startSweeping } from './store/sweeper.ts';
import { ResourceStore } from './store/resource-store.ts';
import { writeResourceIndexes } from './iam/resource-indexes.ts';

export interface App {
  ctx: AppContext;
  server: FastifyInstance;
  /** The audit trail's writer; `flush()` waits for what was recorded so far to be written. */
  audit: AuditTrail;
  /** Stops taking requests, lets those under way finish, then closes the store. */
  close(): Promise<void>;
}

/** `options.database` is an already opened store to use instead of the one the config names (tests). */
export async function startApp(config: Config, options: { logger?: boolean; database?: Database } = {}): Promise<App> {
  setHashConcurrency(config.hashConcurrency);
  const db = options.database ?? (await openDatabase(config));
  let feed: ChangeFeed | undefined;
  let audit: AuditTrail | undefined;
  try {
    await migrate(db);
    const resources = new ResourceStore(db, writeResourceIndexes);
    let server: FastifyInstance | undefined;
    feed = new ChangeFeed(db, (message) => server?.log.warn(message));
    const live = new LiveCache(db, feed);
    const policies = new PolicyStore(db, feed);
    // Started first, so the start-up writes below reach the other processes' projections like any other.
    await feed.start(resources);
    if (config.rootClient) await ensureRootClient(resources, config.rootClient);
    await ensureConsoleClient(resources, config.baseUrl);
    await ensureConsoleAccess(resources, config);
    await indexUserLogins(db);
    await policies.refresh();
    const ctx: AppContext = { config, db, resources, policies, live, feed };
    audit = new AuditTrail(db, config.audit, (message) => server?.log.warn(message));
    server = await buildServer(ctx, { ...options, audit });
    const stopSweeping = startSweeping(db, config, (message) => server?.log.warn(message));
    const stopExporting = startExporting(db, config.audit, (message) => server?.log.warn(message));
    const policyProblem = await policyConfinementProblem(db);
    if (policyProblem) server.log.warn(`SQL access policies are refused: ${policyProblem}`);
    for (const hint of await firstStartHints(ctx)) server.log.info(hint);
    return {
      ctx,
      server,
      audit,
      async close() {
        await server.close();
        // What the last requests recorded is written before the store closes.
        await audit!.close();
        await stopExporting();
        await stopSweeping();
        await feed!.stop();
        await db.close();
      },
    };
  } catch (error) {
    await feed?.stop();
    await db.close();
    throw error;
  }
}
