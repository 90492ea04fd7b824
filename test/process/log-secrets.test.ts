// No secret, token or password in a log line, at the most verbose level.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnServer } from '../helpers/process.ts';
import { basic, request, ROOT } from '../helpers/server.ts';

test('logs carry neither Basic credentials, a query access_token, nor a secret sent in a body', async () => {
  const server = await spawnServer({ WARDEN_DATA_DIR: 'memory://', LOG_LEVEL: 'trace' });
  const token = 'tok-3f9a7c-NEVER-LOGGED';
  const clientSecret = 'client-secret-NEVER-LOGGED';
  try {
    const withToken = await request(server.url, 'GET', `/Patient?access_token=${token}&_count=1`);
    assert.equal(withToken.status, 400, 'access_token is not a search parameter here');
    await request(server.url, 'GET', `/Patient/x?access_token=${token}`);
    await request(server.url, 'GET', '/Patient', { auth: { id: ROOT.id, secret: 'wrong-secret-NEVER-LOGGED' } });
    await request(server.url, 'PUT', '/Client/logged', { body: { resourceType: 'Client', secret: clientSecret, grant_types: ['basic'] } });
    await request(server.url, 'PUT', '/Client/logged-bad', { body: { resourceType: 'Client', secret: clientSecret, grant_types: ['nope'] } });
    await request(server.url, 'GET', `/Nope?client_secret=${clientSecret}&password=${clientSecret}`);
    // The last request's line is the one written last: wait for it, so nothing is still unwritten.
    await request(server.url, 'GET', '/health', { headers: { 'x-request-id': 'log-test-last' } });
    await server.waitForLine(/"reqId":"log-test-last".*request completed/);
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  const output = server.output();
  assert.match(output, /incoming request/, 'requests were logged at all');
  assert.match(output, /access_token=\*\*\*|access_token=%2A%2A%2A/, 'the token parameter is logged masked');
  for (const secret of [
    ROOT.secret,
    basic(ROOT.id, ROOT.secret).slice('Basic '.length),
    token,
    clientSecret,
    'wrong-secret-NEVER-LOGGED',
    Buffer.from(`${ROOT.id}:wrong-secret-NEVER-LOGGED`).toString('base64'),
  ]) {
    assert.equal(output.includes(secret), false, `"${secret}" appears in the logs`);
  }
});
