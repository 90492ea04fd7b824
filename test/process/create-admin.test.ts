// `warden create-admin` without a user id makes the administrator README names (WARDEN_ADMIN_USER, default
// warden-admin), not `admin`: the seeds' walk-through then creates its own User `admin` with POST /User (issue 13).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { openTestStore } from '../helpers/server.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('create-admin without an id makes warden-admin, or WARDEN_ADMIN_USER, and leaves the id admin free', { skip: !process.env.DATABASE_URL && 'DATABASE_URL is not set' }, async () => {
  const store = await openTestStore('postgres');
  const run = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: root, env: { PATH: process.env.PATH, DATABASE_URL: store.url!, ...env } }, (error, _stdout, stderr) =>
        resolve({ code: error ? Number(error.code) : 0, stderr }),
      );
      child.stdin!.end('a long admin password');
    });
  try {
    const made = await run(['create-admin']);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stderr, /User warden-admin is an administrator/);
    const named = await run(['create-admin'], { WARDEN_ADMIN_USER: 'ops-lead' });
    assert.equal(named.code, 0, named.stderr);
    const users = await store.db.query<{ id: string }>(`select id from resource where type = 'User' and not deleted order by id`);
    assert.deepEqual(users.map((user) => user.id), ['ops-lead', 'warden-admin']);
  } finally {
    await store.close();
  }
});
