// SIGTERM: the server stops taking connections, lets the request under way finish, and exits 0.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { spawnServer } from '../helpers/process.ts';
import { basic, request, ROOT } from '../helpers/server.ts';

test('on SIGTERM a request under way completes and the process exits 0', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'warden-sigterm-'));
  const server = await spawnServer({ WARDEN_DATA_DIR: dir });
  try {
    const body = JSON.stringify({ resourceType: 'Patient', id: 'in-flight', name: [{ family: 'Pending' }] });
    const half = Math.floor(body.length / 2);
    // A request whose body is only half sent: the server has it in hand when SIGTERM arrives.
    const { port } = new URL(server.url);
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'PUT',
      path: '/Patient/in-flight',
      headers: {
        authorization: basic(ROOT.id, ROOT.secret),
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-request-id': 'sigterm-in-flight',
      },
    });
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('error', reject);
    });
    req.write(body.slice(0, half));
    await server.waitForLine(/"reqId":"sigterm-in-flight".*incoming request|incoming request.*"reqId":"sigterm-in-flight"/);

    server.child.kill('SIGTERM');
    await server.waitForLine(/shutting down/);
    req.end(body.slice(half));

    const answer = await response;
    assert.equal(answer.status, 201, answer.text);
    assert.equal(JSON.parse(answer.text).name[0].family, 'Pending');
    assert.equal(await server.exited, 0);

    // What was acknowledged during shutdown is in the store.
    const again = await spawnServer({ WARDEN_DATA_DIR: dir });
    try {
      assert.equal((await request(again.url, 'GET', '/Patient/in-flight')).status, 200);
    } finally {
      again.child.kill('SIGTERM');
      assert.equal(await again.exited, 0);
    }
  } finally {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
