// kill -9 right after acknowledged writes: after a restart on the same data, every acknowledged write is there.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { processStore, spawnServer, type ServerProcess } from '../helpers/process.ts';
import { engines, request, type Response } from '../helpers/server.ts';

const WRITES = 40;

for (const engine of engines()) {
  describe(`crash safety (${engine})`, () => {
    test('after kill -9, a restart on the same data has every acknowledged write', async () => {
      const { env, cleanup } = await processStore(engine);
      let server: ServerProcess | undefined;
      try {
        server = await spawnServer(env);
        const url = server.url;
        // Updates of one resource, each acknowledged before the next is sent.
        await request(url, 'PUT', '/Patient/updated', { body: { resourceType: 'Patient', gender: 'male' } });
        const update = await request(url, 'PUT', '/Patient/updated', { body: { resourceType: 'Patient', gender: 'female' } });
        assert.equal(update.status, 200);

        // Many creates at once; the server is killed the moment half of them have been acknowledged,
        // with the rest still in flight.
        const acknowledged = new Map<string, string>();
        const refused: string[] = [];
        let killed = false;
        const server_ = server;
        await new Promise<void>((resolve) => {
          let settled = 0;
          for (let i = 0; i < WRITES; i++) {
            const id = `crash-${i}`;
            request(url, 'PUT', `/Patient/${id}`, { body: { resourceType: 'Patient', name: [{ family: `F${i}` }] } })
              .then((response) => {
                if (killed) return;
                if (response.status !== 201) return void refused.push(`${id}: ${response.status} ${response.text}`);
                acknowledged.set(id, `F${i}`);
                if (acknowledged.size === WRITES / 2) {
                  killed = true;
                  server_.child.kill('SIGKILL');
                }
              })
              .catch(() => {})
              .finally(() => {
                if (++settled === WRITES) resolve();
              });
          }
        });
        assert.deepEqual(refused, []);
        assert.equal(await server.exited, 'SIGKILL');
        assert.equal(acknowledged.size, WRITES / 2);

        server = await spawnServer(env);
        for (const [id, family] of acknowledged) {
          const read: Response = await request(server.url, 'GET', `/Patient/${id}`);
          assert.equal(read.status, 200, `${id} was acknowledged, then lost: ${read.text}`);
          assert.equal(read.body.name[0].family, family);
        }
        const updated = await request(server.url, 'GET', '/Patient/updated');
        assert.equal(updated.body.gender, 'female');
        assert.equal(updated.body.meta.versionId, '2');
        const history = await request(server.url, 'GET', '/Patient/updated/_history');
        assert.equal(history.body.total, 2);
        // The store still takes writes after the crash.
        assert.equal((await request(server.url, 'PUT', '/Patient/after-crash', { body: { resourceType: 'Patient' } })).status, 201);
      } finally {
        if (server && server.child.exitCode === null && server.child.signalCode === null) {
          server.child.kill('SIGKILL');
          await server.exited;
        }
        await cleanup();
      }
    });
  });
}
