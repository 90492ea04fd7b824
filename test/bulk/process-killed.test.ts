// A server process killed (kill -9) in the middle of an export: the job is resumed by the next process to
// start on the same store, from the last chunk it saved, and the output has every resource exactly once.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventually } from '../helpers/oauth.ts';
import { processStore, spawnServer, withProcessStore, type ServerProcess } from '../helpers/process.ts';
import { basic, engines, ROOT } from '../helpers/server.ts';

const PATIENTS = 500;
/** One resource per chunk and a one-second lease: the export is long enough to be killed in, and resumed at once. */
const EXPORT_ENV = { WARDEN_EXPORT_CHUNK_SIZE: '1', WARDEN_EXPORT_LEASE_SECONDS: '1', WARDEN_EXPORT_POLL_MS: '100', LOG_LEVEL: 'warn' };
const auth = { authorization: basic(ROOT.id, ROOT.secret) };

/** Writes the patients straight into the store (no search index is needed to export them). */
async function seed(env: Record<string, string>): Promise<void> {
  await withProcessStore(env, (db) =>
    db.query(
      `insert into resource (type, id, version_id, last_updated, deleted, resource)
       select 'Patient', id, 1, now() - interval '1 minute', false, jsonb_build_object('resourceType', 'Patient', 'id', id, 'meta', jsonb_build_object('versionId', '1'))
       from (select 'p' || lpad(i::text, 5, '0') as id from generate_series(1, $1::int) i) ids`,
      [PATIENTS],
    ),
  );
}

async function exportedSoFar(server: ServerProcess, status: string): Promise<{ status: number; exported: number }> {
  const response = await fetch(`${server.url}${status}`, { headers: auth });
  await response.text();
  return { status: response.status, exported: Number(/(\d+) resources/.exec(response.headers.get('x-progress') ?? '')?.[1] ?? 0) };
}

for (const engine of engines()) {
  describe(`an export outlives its process (${engine})`, () => {
    test('kill -9 mid-export: a restarted process resumes the job, and every resource is exported exactly once', async () => {
      const { env, cleanup } = await processStore(engine);
      let server: ServerProcess | undefined;
      try {
        await seed(env);
        server = await spawnServer({ ...env, ...EXPORT_ENV });
        const kickoff = await fetch(`${server.url}/$export?_type=Patient`, { headers: { ...auth, prefer: 'respond-async' } });
        assert.equal(kickoff.status, 202, await kickoff.text());
        const status = new URL(kickoff.headers.get('content-location')!).pathname;

        // Killed once some chunks are saved, while the job is still running.
        let before = { status: 0, exported: 0 };
        await eventually(async () => (before = await exportedSoFar(server!, status)).exported >= 20 || before.status !== 202, 60_000);
        assert.equal(before.status, 202, 'the export was still running when the process was killed');
        server.child.kill('SIGKILL');
        assert.equal(await server.exited, 'SIGKILL');

        server = await spawnServer({ ...env, ...EXPORT_ENV });
        let after = { status: 0, exported: 0 };
        await eventually(async () => (after = await exportedSoFar(server!, status)).status === 200, 120_000);
        const manifest = (await (await fetch(`${server.url}${status}`, { headers: auth })).json()) as { output: { url: string; count: number }[] };
        assert.equal(manifest.output.length, 1);
        assert.equal(manifest.output[0].count, PATIENTS);
        const lines = (await (await fetch(manifest.output[0].url, { headers: auth })).text()).split('\n').filter(Boolean);
        const ids = lines.map((line) => (JSON.parse(line) as { id: string }).id);
        assert.equal(ids.length, PATIENTS);
        assert.equal(new Set(ids).size, PATIENTS, 'no resource written twice');
        assert.deepEqual(ids, [...ids].sort(), 'in id order, across the restart');
      } finally {
        if (server && server.child.exitCode === null && server.child.signalCode === null) {
          server.child.kill('SIGTERM');
          await server.exited;
        }
        await cleanup();
      }
    });
  });
}
