// Boots a real Warden on a real store and talks to it over real HTTP. With DATABASE_URL set, every test
// that loops over `engines()` runs on the embedded store and on PostgreSQL; each server gets a fresh database.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import type { Database } from '../../src/store/database.ts';
import { openDatabase } from '../../src/store/open-database.ts';
import { dumpPglite, openPglite } from '../../src/store/pglite.ts';
import { loadMigrations, migrate } from '../../src/store/migrations.ts';
import { startApp, type App } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';

export type Engine = 'pglite' | 'postgres';

export const ROOT = { id: 'root', secret: 'root-secret-for-tests' };

export function engines(): Engine[] {
  return process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A new, empty PostgreSQL database for one test server, dropped by the returned function. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) throw new Error('DATABASE_URL is not set');
  const name = `warden_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** A migrated store of `engine` for tests without a server: a fresh PostgreSQL database (at `url`), or PGlite in memory. */
export async function openTestStore(engine: Engine): Promise<{ db: Database; url?: string; close: () => Promise<void> }> {
  const database = engine === 'postgres' ? await createTestDatabase() : undefined;
  const db = await openDatabase({ databaseUrl: database?.url, dataDir: 'memory://' });
  await migrate(db);
  return {
    db,
    url: database?.url,
    async close() {
      await db.close();
      await database?.drop();
    },
  };
}

let template: Promise<Blob> | undefined;

/**
 * A migrated, empty embedded store, made once and kept on disk for every test process: starting PGlite from
 * a copy takes a fraction of the time a fresh initdb takes. Keyed by the migrations, so a new one starts anew.
 */
function pgliteTemplate(): Promise<Blob> {
  template ??= (async () => {
    const digest = createHash('sha256').update(JSON.stringify(loadMigrations())).digest('hex').slice(0, 16);
    const file = join(tmpdir(), `warden-pglite-template-${digest}.tar`);
    if (existsSync(file)) return new Blob([readFileSync(file)]);
    const db = await openPglite('memory://');
    await migrate(db);
    const dump = await dumpPglite(db);
    await db.close();
    const partial = `${file}.${process.pid}`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, file);
    return dump;
  })();
  return template;
}

export interface Response<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as is, with this content type; otherwise `body` is sent as JSON. */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** Basic credentials; defaults to the root client; null sends none. */
  auth?: { id: string; secret: string } | null;
}

export interface TestServer {
  engine: Engine;
  url: string;
  app: App;
  config: Config;
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<Response<T>>;
  close(): Promise<void>;
}

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

export async function request<T = any>(baseUrl: string, method: string, path: string, options: RequestOptions = {}): Promise<Response<T>> {
  const headers: Record<string, string> = { ...options.headers };
  const auth = options.auth === undefined ? ROOT : options.auth;
  if (auth && !headers.authorization) headers.authorization = basic(auth.id, auth.secret);
  let body: string | undefined;
  if (options.raw !== undefined) {
    body = options.raw;
    headers['content-type'] = options.contentType ?? 'application/json';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = options.contentType ?? 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

export async function startTestServer(engine: Engine, overrides: Partial<Config> = {}): Promise<TestServer> {
  const port = await freePort();
  const database = engine === 'postgres' ? await createTestDatabase() : undefined;
  const config: Config = {
    ...loadConfig({}),
    port,
    host: '127.0.0.1',
    baseUrl: `http://127.0.0.1:${port}`,
    dataDir: 'memory://',
    databaseUrl: database?.url,
    rootClient: ROOT,
    logLevel: 'silent',
    // The identity providers tests start listen on http://127.0.0.1; test/security/external-tokens.test.ts turns
    // this off to see such URLs refused.
    allowInsecureJwksUris: true,
    ...overrides,
  };
  const embedded = !config.databaseUrl && config.dataDir === 'memory://';
  const app = await startApp(config, {
    logger: false,
    database: embedded ? await openPglite('memory://', await pgliteTemplate()) : undefined,
  });
  await app.server.listen({ port, host: '127.0.0.1' });
  return {
    engine,
    url: config.baseUrl,
    app,
    config,
    request: (method, path, options) => request(config.baseUrl, method, path, options),
    async close() {
      await app.close();
      await database?.drop();
    },
  };
}
