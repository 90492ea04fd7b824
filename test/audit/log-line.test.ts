// Each request's log line names the caller (client, user, session) and, on a refusal, the reason: the log says
// who was refused, not only `statusCode: 403`, whether the audit trail is on or off.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnServer } from '../helpers/process.ts';
import { request } from '../helpers/server.ts';

for (const audit of ['true', 'false']) {
  test(`request log lines carry the identity, and the reason of a denial (WARDEN_AUDIT=${audit})`, async () => {
    const server = await spawnServer({ WARDEN_DATA_DIR: 'memory://', WARDEN_AUDIT: audit });
    try {
      await request(server.url, 'PUT', '/Client/reader', { body: { resourceType: 'Client', secret: 'reader-secret-1234', grant_types: ['basic'] } });
      const allowed = await request(server.url, 'GET', '/Patient', { headers: { 'x-request-id': 'log-allowed' } });
      assert.equal(allowed.status, 200);
      const denied = await request(server.url, 'GET', '/Patient', { auth: { id: 'reader', secret: 'reader-secret-1234' }, headers: { 'x-request-id': 'log-denied' } });
      assert.equal(denied.status, 403);
      const completed = (id: string) => server.waitForLine(new RegExp(`"reqId":"${id}".*"request completed"`)).then((line) => JSON.parse(line));
      const allowedLine = await completed('log-allowed');
      assert.equal(allowedLine.client, 'root');
      assert.equal(allowedLine.denied, undefined);
      const deniedLine = await completed('log-denied');
      assert.equal(deniedLine.client, 'reader');
      assert.match(deniedLine.denied, /Client "reader" is not allowed to GET \/Patient/);
      assert.doesNotMatch(server.output(), /reader-secret-1234|root-secret-for-tests/);
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
    }
  });
}
