// Runs the real server as its own process (`node --import tsx src/main.ts`, or a build's `node dist/main.js`), for what only a process can
// show: a kill -9, a SIGTERM, what it writes to its logs.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from '../../src/store/database.ts';
import { migrate } from '../../src/store/migrations.ts';
import { openDatabase } from '../../src/store/open-database.ts';
import { createTestDatabase, freePort, ROOT } from './server.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first output line matching `pattern`, already written or yet to come. */
  waitForLine(pattern: RegExp): Promise<string>;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
}

/** Polls /health until the server answers 200 (at any log level), or fails if the process ends first. */
async function untilHealthy(url: string, exited: Promise<number | string>, output: () => string): Promise<void> {
  let ended: number | string | undefined;
  exited.then((code) => (ended = code));
  for (;;) {
    if (ended !== undefined) throw new Error(`server exited (${ended}) before it was ready:\n${output()}`);
    try {
      if ((await fetch(`${url}/health`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** From source by default; `from` runs another checkout's build instead (`{ cwd, args: ['dist/main.js'] }`). */
export async function spawnServer(
  env: Record<string, string>,
  from: { cwd: string; args: string[] } = { cwd: root, args: ['--import', 'tsx', 'src/main.ts'] },
): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, from.args, {
    cwd: from.cwd,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      WARDEN_ROOT_CLIENT_ID: ROOT.id,
      WARDEN_ROOT_CLIENT_SECRET: ROOT.secret,
      LOG_LEVEL: 'info',
      // One process, whatever the store: the tests that want workers ask for them.
      WARDEN_WORKERS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const waiter of [...waiters]) {
      const line = output.split('\n').find((candidate) => waiter.pattern.test(candidate));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);

  const waitForLine = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const line = output.split('\n').find((candidate) => pattern.test(candidate));
      if (line !== undefined) return resolve(line);
      waiters.push({ pattern, resolve });
      exited.then((code) => reject(new Error(`server exited (${code}) before writing ${pattern}:\n${output}`)));
    });

  const url = `http://127.0.0.1:${port}`;
  await untilHealthy(url, exited, () => output);
  return { url, child, output: () => output, waitForLine, exited };
}

/** A store for server processes of `engine` that outlives them: a fresh PostgreSQL database, or a PGlite folder. */
export async function processStore(engine: string): Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }> {
  if (engine === 'postgres') {
    const database = await createTestDatabase();
    return { env: { DATABASE_URL: database.url }, cleanup: database.drop };
  }
  const dir = await mkdtemp(join(tmpdir(), 'warden-process-'));
  return { env: { WARDEN_DATA_DIR: dir }, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs `work` on the store a server process of `env` would open (migrated), before the process starts. */
export async function withProcessStore(env: Record<string, string>, work: (db: Database) => Promise<unknown>): Promise<void> {
  const db = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.WARDEN_DATA_DIR ?? 'memory://' });
  try {
    await migrate(db);
    await work(db);
  } finally {
    await db.close();
  }
}
