// Opens the store the configuration names: PostgreSQL when a URL is set, else the embedded PGlite. Each engine
// is loaded only when used (PGlite's WebAssembly is large).
import type { Config } from '../config.ts';
import type { Database } from './database.ts';

export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>): Promise<Database> {
  if (config.databaseUrl) {
    const { openPostgres } = await import('./postgres.ts');
    return openPostgres(config.databaseUrl);
  }
  const { openPglite } = await import('./pglite.ts');
  return openPglite(config.dataDir);
}
