// Starts Warden from the environment: `npm start` (`node dist/main.js`; `npm run dev` runs it from source).
import cluster from 'node:cluster';
import { startApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { serveMetrics } from './observe/metrics-server.ts';
import { superviseWorkers } from './process/supervisor.ts';
import { maintenanceWarnings } from './store/maintenance-check.ts';
import { EmbeddedStoreInUse } from './store/embedded-lock.ts';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`warden: ${error.message}`);
  process.exit(2);
}

// With several workers this process only supervises them; each worker runs the rest of this file.
if (cluster.isPrimary && config.workers > 1) await superviseWorkers(config);

let app;
try {
  app = await startApp(config);
} catch (error) {
  if (!(error instanceof EmbeddedStoreInUse)) throw error;
  console.error(`warden: ${error.message}`);
  process.exit(2);
}
const log = app.server.log;
if (!config.rootClient) {
  log.warn('no root client: set WARDEN_ROOT_CLIENT_SECRET (and optionally WARDEN_ROOT_CLIENT_ID) to get one');
}
for (const warning of await maintenanceWarnings(app.ctx.db)) log.warn(warning);
await app.server.listen({ port: config.port, host: config.host });
if (cluster.isPrimary && config.metrics.port !== undefined) await serveMetrics(config.metrics.port, config.metrics.host);
log.info({ baseUrl: config.baseUrl, store: config.databaseUrl ? 'postgres' : `pglite:${config.dataDir}` }, 'warden is ready');

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    try {
      await app.close();
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  });
}
