// Slow and silent connections (slowloris, CWE-400; OWASP ASVS 5.0 V15.2, resource exhaustion): a client that
// sends its request slowly, or nothing at all, is cut off after the configured timeouts instead of holding a
// socket for as long as it likes. Short timeouts here; the defaults are in src/config.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { trickle, waitForClose } from '../helpers/raw-http.ts';

const TIMEOUTS = { requestMs: 1000, headersMs: 600, keepAliveMs: 500, idleMs: 3000 };
/** A test that the fix does not make pass would otherwise wait for the whole trickle; this bounds it. */
const BOUND = { timeout: 30_000 };

for (const engine of engines()) {
  describe(`slow and silent connections are cut off (${engine})`, () => {
    let server: TestServer;
    let host: string;
    before(async () => {
      server = await startTestServer(engine, { timeouts: TIMEOUTS });
      host = new URL(server.url).host;
    });
    after(() => server.close());

    test('a body sent one byte at a time is cut off with 408 at the request timeout (slowloris)', BOUND, async () => {
      const head = `POST /Patient HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 200\r\nConnection: close\r\n\r\n`;
      const result = await trickle(server.url, head, `{"resourceType":"Patient","name":[{"family":"${'x'.repeat(160)}"}]}`.padEnd(200), 100);
      assert.ok(result.cutOff, `the whole body was accepted (${result.sent} bytes), answered ${result.response.status}`);
      assert.equal(result.response.status, 408);
    });

    test('headers sent one byte at a time are cut off at the headers timeout', BOUND, async () => {
      const tail = `Host: ${host}\r\nAccept: application/json\r\nX-Padding: ${'y'.repeat(150)}\r\nConnection: close\r\n\r\n`;
      const result = await trickle(server.url, 'GET /health HTTP/1.1\r\n', tail, 100);
      assert.ok(result.cutOff, `all headers were accepted (${result.sent} bytes), answered ${result.response.status}`);
      assert.equal(result.response.status, 408);
    });

    test('a connection that sends nothing is closed', BOUND, async () => {
      const response = await waitForClose(server.url);
      assert.ok(response.status === 0 || response.status === 408, response.text);
    });

    test('an idle keep-alive connection is closed after its answer', BOUND, async () => {
      const response = await waitForClose(server.url, `GET /health HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      assert.equal(response.status, 200);
    });
  });
}
