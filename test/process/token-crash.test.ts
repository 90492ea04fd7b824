// kill -9 right after tokens were answered: every answered token's Session is in the store after a restart.
// Sessions of concurrent requests are written together (src/tokens/session.ts), and no token is answered before
// the write holding its Session has committed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { processStore, spawnServer, type ServerProcess } from '../helpers/process.ts';
import { engines, request, type Response } from '../helpers/server.ts';

const TOKENS = 40;

for (const engine of engines()) {
  describe(`tokens survive a crash (${engine})`, () => {
    test('after kill -9, every answered token has its Session', async () => {
      const { env, cleanup } = await processStore(engine);
      let server: ServerProcess | undefined;
      try {
        server = await spawnServer(env);
        const url = server.url;
        const answered: { sid: string }[] = [];
        let killed = false;
        const server_ = server;
        await new Promise<void>((resolve) => {
          let settled = 0;
          for (let i = 0; i < TOKENS; i++) {
            request(url, 'POST', '/auth/token', { raw: 'grant_type=client_credentials', contentType: 'application/x-www-form-urlencoded' })
              .then((response) => {
                if (killed || response.status !== 200) return;
                const token = response.body.access_token as string;
                answered.push({ sid: JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sid });
                // Killed the moment half of them are answered, the rest still in flight.
                if (answered.length === TOKENS / 2) {
                  killed = true;
                  server_.child.kill('SIGKILL');
                }
              })
              .catch(() => {})
              .finally(() => {
                if (++settled === TOKENS) resolve();
              });
          }
        });
        assert.equal(await server.exited, 'SIGKILL');
        assert.equal(answered.length, TOKENS / 2);

        server = await spawnServer(env);
        // (The tokens themselves no longer verify here: the restarted server has another port, so another issuer.)
        for (const { sid } of answered) {
          const session: Response = await request(server.url, 'GET', `/Session/${sid}`);
          assert.equal(session.status, 200, `Session ${sid} was answered with a token, then lost: ${session.text}`);
          assert.equal(session.body.client.id, 'root');
        }
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
