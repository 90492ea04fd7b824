// No secret, token or password in a log line, at the most verbose level.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import postgres from 'postgres';
import { openPglite } from '../../src/store/pglite.ts';
import { spawnServer } from '../helpers/process.ts';
import { basic, createTestDatabase, request, ROOT } from '../helpers/server.ts';

type Spawned = Awaited<ReturnType<typeof spawnServer>>;

/** Sends `requests`, stops the server once everything they logged is written, and returns its whole log. */
async function logsOf(server: Spawned, requests: () => Promise<void>): Promise<string> {
  try {
    await requests();
    // The last request's line is the one written last: wait for it, so nothing is still unwritten.
    await request(server.url, 'GET', '/health', { headers: { 'x-request-id': 'log-test-last' } });
    await server.waitForLine(/"reqId":"log-test-last".*request completed/);
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  return server.output();
}

test('logs carry neither Basic credentials, a query access_token, nor a secret sent in a body', async () => {
  const server = await spawnServer({ WARDEN_DATA_DIR: 'memory://', LOG_LEVEL: 'trace' });
  const token = 'tok-3f9a7c-NEVER-LOGGED';
  const clientSecret = 'client-secret-NEVER-LOGGED';
  const output = await logsOf(server, async () => {
    const withToken = await request(server.url, 'GET', `/Patient?access_token=${token}&_count=1`);
    assert.equal(withToken.status, 400, 'access_token is not a search parameter here');
    await request(server.url, 'GET', `/Patient/x?access_token=${token}`);
    await request(server.url, 'GET', '/Patient', { auth: { id: ROOT.id, secret: 'wrong-secret-NEVER-LOGGED' } });
    await request(server.url, 'PUT', '/Client/logged', { body: { resourceType: 'Client', secret: clientSecret, grant_types: ['basic'] } });
    await request(server.url, 'PUT', '/Client/logged-bad', { body: { resourceType: 'Client', secret: clientSecret, grant_types: ['nope'] } });
    await request(server.url, 'GET', `/Nope?client_secret=${clientSecret}&password=${clientSecret}`);
  });
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

test('logs carry no SMART launch value, nor the state, nonce or PKCE challenge inside return_to (OWASP ASVS 5.0 V16.2.5)', async () => {
  const server = await spawnServer({ WARDEN_DATA_DIR: 'memory://', LOG_LEVEL: 'trace' });
  const launch = 'launch-NEVER-LOGGED';
  const state = 'state-NEVER-LOGGED';
  const nonce = 'nonce-NEVER-LOGGED';
  const output = await logsOf(server, async () => {
    const authorize = `/auth/authorize?response_type=code&client_id=nobody&launch=${launch}&state=${state}&nonce=${nonce}`;
    await request(server.url, 'GET', authorize, { auth: null });
    await request(server.url, 'GET', `/auth/login?return_to=${encodeURIComponent(authorize)}`, { auth: null });
    await request(server.url, 'GET', `/auth/login?return_to=${encodeURIComponent(`/auth/login?return_to=${encodeURIComponent(authorize)}`)}`, { auth: null });
  });
  assert.match(output, /return_to=/, 'the login requests were logged');
  for (const secret of [launch, state, nonce]) assert.equal(output.includes(secret), false, `"${secret}" appears in the logs`);
});

/**
 * Constraints that make a write fail inside PostgreSQL with the written data in the error (detail, message).
 * They sit on elements whose values pass FHIR validation (a code, a uri), so the write reaches the database.
 */
const REFUSING_CONSTRAINTS = `
  alter table resource add constraint warden_test_no_flag check (resource->>'language' is null);
  alter table resource add constraint warden_test_number check (resource->>'implicitRules' is null or (resource->>'implicitRules')::int > 0);`;

async function assertDatabaseErrorsLogWithoutValues(server: Spawned) {
  const flag = 'flag-secret-NEVER-LOGGED';
  const number = 'number-secret-NEVER-LOGGED';
  const output = await logsOf(server, async () => {
    const refused = await request(server.url, 'PUT', '/Patient/flagged', { body: { resourceType: 'Patient', language: flag } });
    assert.equal(refused.status, 500, refused.text);
    const cast = await request(server.url, 'PUT', '/Patient/numbered', { body: { resourceType: 'Patient', implicitRules: number } });
    assert.equal(cast.status, 500, cast.text);
  });
  assert.match(output, /"code":"23514"/, 'the check violation was logged, with its SQLSTATE');
  assert.match(output, /"code":"22P02"/, 'the failed cast was logged, with its SQLSTATE');
  assert.match(output, /"constraint(_name)?":"warden_test_no_flag"/, 'and with the constraint it broke');
  for (const secret of [flag, number]) assert.equal(output.includes(secret), false, `"${secret}" appears in the logs`);
}

test('a database error is logged without the values bound to its statement (embedded store)', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'warden-log-'));
  try {
    const first = await spawnServer({ WARDEN_DATA_DIR: dataDir });
    first.child.kill('SIGTERM');
    await first.exited;
    const db = await openPglite(dataDir);
    await db.exec(REFUSING_CONSTRAINTS);
    await db.close();
    await assertDatabaseErrorsLogWithoutValues(await spawnServer({ WARDEN_DATA_DIR: dataDir, LOG_LEVEL: 'trace' }));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a database error is logged without the values bound to its statement (PostgreSQL)', { skip: !process.env.DATABASE_URL }, async () => {
  const database = await createTestDatabase();
  try {
    const server = await spawnServer({ DATABASE_URL: database.url, LOG_LEVEL: 'trace' });
    const admin = postgres(database.url, { max: 1, onnotice: () => {} });
    await admin.unsafe(REFUSING_CONSTRAINTS);
    await admin.end();
    await assertDatabaseErrorsLogWithoutValues(server);
  } finally {
    await database.drop();
  }
});
