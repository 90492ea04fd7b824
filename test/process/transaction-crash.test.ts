// kill -9 in the middle of a transaction Bundle: after a restart on the same data, what was committed before is
// all there, and the transaction is there whole or not at all (FHIR R4 §3.1.0.11.2; one database transaction).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import postgres from 'postgres';
import { spawnServer, type ServerProcess } from '../helpers/process.ts';
import { createTestDatabase, engines, request } from '../helpers/server.ts';

const ENTRIES = 1500;

const transaction = (system: string, count: number) => ({
  resourceType: 'Bundle',
  type: 'transaction',
  entry: Array.from({ length: count }, (_, i) => ({
    fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    resource: { resourceType: 'Patient', identifier: [{ system, value: String(i) }] },
    request: { method: 'POST', url: 'Patient' },
  })),
});

/** Resolves once a transaction of the server's has written rows and is still open (PostgreSQL only). */
async function untilTransactionWrites(url: string, done: () => boolean): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    while (!done()) {
      const [open] = await sql`select 1 from pg_stat_activity where datname = current_database() and application_name = 'warden' and backend_xid is not null`;
      if (open) return;
    }
  } finally {
    await sql.end();
  }
}

for (const engine of engines()) {
  describe(`kill -9 during a transaction Bundle (${engine})`, () => {
    test('leaves nothing half-written and loses nothing committed', async () => {
      const database = engine === 'postgres' ? await createTestDatabase() : undefined;
      const dir = engine === 'pglite' ? await mkdtemp(join(tmpdir(), 'warden-tx-crash-')) : undefined;
      const env: Record<string, string> = database ? { DATABASE_URL: database.url } : { WARDEN_DATA_DIR: dir! };
      let server: ServerProcess | undefined;
      try {
        server = await spawnServer(env);
        const committed = await request(server.url, 'POST', '/', { body: transaction('urn:committed', 20) });
        assert.equal(committed.status, 200, committed.text);

        let answered = false;
        const inFlight = request(server.url, 'POST', '/', { body: transaction('urn:in-flight', ENTRIES) }).then(
          (response) => {
            answered = response.status === 200;
          },
          () => {},
        );
        // Killed while the transaction writes (seen from PostgreSQL), or once the request has reached the server.
        if (database) await untilTransactionWrites(database.url, () => answered);
        else await server.waitForLine(/"url":"\/"/);
        server.child.kill('SIGKILL');
        assert.equal(await server.exited, 'SIGKILL');
        await inFlight;

        server = await spawnServer(env);
        const count = async (system: string) => (await request(server!.url, 'GET', `/Patient?identifier=${system}|&_count=0`)).body.total;
        assert.equal(await count('urn:committed'), 20, 'what was committed before the crash is there');
        const written = await count('urn:in-flight');
        assert.ok(written === 0 || written === ENTRIES, `the transaction is whole or absent, found ${written} of ${ENTRIES}`);
        if (answered) assert.equal(written, ENTRIES, 'an acknowledged transaction is kept');
        assert.equal((await request(server.url, 'PUT', '/Patient/after-crash', { body: { resourceType: 'Patient' } })).status, 201);
      } finally {
        if (server && server.child.exitCode === null && server.child.signalCode === null) {
          server.child.kill('SIGKILL');
          await server.exited;
        }
        await database?.drop();
        if (dir) await rm(dir, { recursive: true, force: true });
      }
    });
  });
}
