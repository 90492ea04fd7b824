// An event records what a caller sent, and the store refuses the NUL character in JSON: such an event is kept
// with U+FFFD in its place, and neither blocks the events behind it nor the shutdown (it once looped for ever).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

for (const engine of engines()) {
  describe(`AuditEvents with text the store refuses (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
    });
    after(() => server?.close());

    test('a token request naming a client with a NUL is recorded with U+FFFD, and the trail still writes and closes', { timeout: 60_000 }, async () => {
      const refused = await fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&client_id=ro%00ot&client_secret=x',
      });
      assert.equal(refused.status, 400);
      await server.request('GET', '/Patient');
      await server.app.audit.flush();
      assert.equal(server.app.audit.queued, 0, 'nothing is left waiting behind the event');
      const response = await server.request('GET', '/AuditEvent?_count=1000');
      assert.equal(response.status, 200, response.text);
      const texts = JSON.stringify(response.body);
      assert.ok(texts.includes('ro\ufffdot'), 'the name tried is kept, its NUL replaced');
      await server.app.audit.close();
    });
  });
}
