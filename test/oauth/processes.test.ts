// Two server processes (`node --import tsx src/main.ts`) on one fresh PostgreSQL database: they share the
// signing keys, and a revocation, a deleted session, a changed secret, policy or role on one takes effect on the other.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../../src/store/open-database.ts';
import { KeyStore } from '../../src/tokens/keys.ts';
import { decodeJwtHeader, decodeJwtPayload, eventually } from '../helpers/oauth.ts';
import { ROOT, basic, createTestDatabase, freePort, request } from '../helpers/server.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));

describe('two server processes on one PostgreSQL database', { skip: !process.env.DATABASE_URL && 'DATABASE_URL is not set' }, () => {
  let database: { url: string; drop: () => Promise<void> };
  let issuer: string;
  const urls: string[] = [];
  const children: ChildProcess[] = [];
  let output = '';

  async function startProcess(port: number): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: repo,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: database.url,
        // Both processes serve one public URL, as behind a load balancer: one issuer.
        WARDEN_BASE_URL: issuer,
        WARDEN_ROOT_CLIENT_ID: ROOT.id,
        WARDEN_ROOT_CLIENT_SECRET: ROOT.secret,
        LOG_LEVEL: 'warn',
        WARDEN_WORKERS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    children.push(child);
    const url = `http://127.0.0.1:${port}`;
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${output}`);
      return fetch(`${url}/health`).then((response) => response.ok, () => false);
    }, 60_000);
    return child;
  }

  const token = async (url: string, auth = ROOT, form: Record<string, string> = { grant_type: 'client_credentials' }) => {
    const response = await request(url, 'POST', '/auth/token', {
      raw: new URLSearchParams(form).toString(), contentType: 'application/x-www-form-urlencoded', auth: null,
      headers: { authorization: basic(auth.id, auth.secret) },
    });
    assert.equal(response.status, 200, response.text);
    return response.body as Record<string, string>;
  };
  const readWith = (url: string, authorization: string) => request(url, 'GET', '/Patient', { auth: null, headers: { authorization } });

  before(async () => {
    database = await createTestDatabase();
    const ports = [await freePort(), await freePort()];
    urls.push(...ports.map((port) => `http://127.0.0.1:${port}`));
    issuer = urls[0];
    // Started together on an empty database: they race to make the first key.
    await Promise.all(ports.map((port) => startProcess(port)));
  });

  after(async () => {
    await Promise.all(
      children.map((child) => new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      })),
    );
    await database?.drop();
  });

  test('they publish the same keys, and only one key was made', async () => {
    const [a, b] = await Promise.all(urls.map((url) => request(url, 'GET', '/.well-known/jwks.json', { auth: null })));
    assert.deepEqual(a.body, b.body);
    assert.equal(a.body.keys.length, 1);
  });

  test('a token issued by one is honoured by the other, JWT and opaque', async () => {
    const jwt = await token(urls[0]);
    assert.equal((await readWith(urls[1], `Bearer ${jwt.access_token}`)).status, 200);
    await request(urls[0], 'PUT', '/Client/opaque', {
      body: { resourceType: 'Client', secret: 'opaque-secret', grant_types: ['client_credentials'], auth: { client_credentials: { token_format: 'opaque' } } },
    });
    const opaque = await token(urls[0], { id: 'opaque', secret: 'opaque-secret' });
    assert.equal((await readWith(urls[1], `Bearer ${opaque.access_token}`)).status, 403, 'authenticated as opaque on the other process');
  });

  test('a revocation on one ends the token on the other at once', async () => {
    const { access_token } = await token(urls[0]);
    assert.equal((await readWith(urls[1], `Bearer ${access_token}`)).status, 200);
    const revoked = await request(urls[0], 'POST', '/auth/revoke', { raw: `token=${access_token}`, contentType: 'application/x-www-form-urlencoded' });
    assert.equal(revoked.status, 200);
    assert.equal((await readWith(urls[1], `Bearer ${access_token}`)).status, 401);
  });

  test('a session deleted on one ends its tokens on the other at once', async () => {
    const { access_token } = await token(urls[0]);
    assert.equal((await readWith(urls[0], `Bearer ${access_token}`)).status, 200);
    assert.equal((await request(urls[1], 'DELETE', `/Session/${decodeJwtPayload(access_token).sid}`)).status, 200);
    assert.equal((await readWith(urls[0], `Bearer ${access_token}`)).status, 401);
  });

  test('a secret changed on one stops working on the other at once, though the other had it cached', async () => {
    const body = { resourceType: 'Client', grant_types: ['basic'] };
    await request(urls[0], 'PUT', '/Client/shared', { body: { ...body, secret: 'old-secret' } });
    assert.equal((await readWith(urls[1], basic('shared', 'old-secret'))).status, 403);
    assert.equal((await readWith(urls[1], basic('shared', 'old-secret'))).status, 403);
    await request(urls[0], 'PUT', '/Client/shared', { body: { ...body, secret: 'new-secret' } });
    assert.equal((await readWith(urls[1], basic('shared', 'old-secret'))).status, 401);
    assert.equal((await readWith(urls[1], basic('shared', 'new-secret'))).status, 403);
  });

  test('a refresh token rotated on one and reused on the other ends the session', async () => {
    await request(urls[0], 'PUT', '/Client/app', {
      body: { resourceType: 'Client', secret: 'app-secret', grant_types: ['password'], auth: { password: { refresh_token: true } } },
    });
    await request(urls[0], 'PUT', '/User/dave', { body: { resourceType: 'User', password: 'dave-password' } });
    const app = { id: 'app', secret: 'app-secret' };
    const first = await token(urls[0], app, { grant_type: 'password', username: 'dave', password: 'dave-password' });
    const second = await token(urls[0], app, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    const reuse = await request(urls[1], 'POST', '/auth/token', {
      raw: `grant_type=refresh_token&refresh_token=${first.refresh_token}`, contentType: 'application/x-www-form-urlencoded', auth: app,
    });
    assert.equal(reuse.body.error, 'invalid_grant');
    const introspected = await request(urls[0], 'POST', '/auth/introspect', {
      raw: `token=${second.access_token}`, contentType: 'application/x-www-form-urlencoded', auth: app,
    });
    assert.deepEqual(introspected.body, { active: false });
  });

  // OWASP ASVS 5.0 V8.1.3 (a change of rights takes effect): each process compiles its own policies, so a grant
  // or a withdrawal written on one must reach the other's compiled set, not wait for a restart.
  test('a policy written on one is in force on the other, and its deletion there withdraws it', async () => {
    const reader = { id: 'policy-reader', secret: 'policy-reader-secret' };
    await request(urls[0], 'PUT', `/Client/${reader.id}`, { body: { resourceType: 'Client', secret: reader.secret, grant_types: ['basic'] } });
    const readOnOther = async () => (await readWith(urls[1], basic(reader.id, reader.secret))).status;
    assert.equal(await readOnOther(), 403);
    const written = await request(urls[0], 'PUT', '/AccessPolicy/policy-reader', {
      body: { resourceType: 'AccessPolicy', engine: 'matcho', link: [{ resourceType: 'Client', id: reader.id }], matcho: { 'request-method': 'get' } },
    });
    assert.equal(written.status, 201, written.text);
    await eventually(async () => (await readOnOther()) === 200);
    assert.equal((await request(urls[0], 'DELETE', '/AccessPolicy/policy-reader')).status, 200);
    await eventually(async () => (await readOnOther()) === 403);
  });

  test('a Role given on one grants its policies on the other, and taking it away there withdraws them', async () => {
    await request(urls[0], 'PUT', '/AccessPolicy/auditors', { body: { resourceType: 'AccessPolicy', engine: 'matcho', roleName: 'auditor', matcho: { 'request-method': 'get' } } });
    await request(urls[0], 'PUT', '/User/erin', { body: { resourceType: 'User', password: 'erin-password-long' } });
    await request(urls[0], 'PUT', '/Client/erin-app', {
      body: { resourceType: 'Client', secret: 'erin-app-secret', grant_types: ['password'] },
    });
    const { access_token } = await token(urls[0], { id: 'erin-app', secret: 'erin-app-secret' }, { grant_type: 'password', username: 'erin', password: 'erin-password-long' });
    const readOnOther = async () => (await readWith(urls[1], `Bearer ${access_token}`)).status;
    assert.equal(await readOnOther(), 403);
    assert.equal((await request(urls[0], 'PUT', '/Role/erin-auditor', { body: { resourceType: 'Role', name: 'auditor', user: { id: 'erin' } } })).status, 201);
    await eventually(async () => (await readOnOther()) === 200);
    assert.equal((await request(urls[0], 'DELETE', '/Role/erin-auditor')).status, 200);
    await eventually(async () => (await readOnOther()) === 403);
  });

  test('a key rotation reaches both; tokens signed with the old key stay valid on both', async () => {
    const old = await token(urls[0]);
    const db = await openDatabase({ databaseUrl: database.url, dataDir: 'memory://' });
    let newKid: string;
    try {
      newKid = await new KeyStore(db, 'RS256').rotate();
    } finally {
      await db.close();
    }
    for (const url of urls) {
      await eventually(async () => decodeJwtHeader((await token(url)).access_token).kid === newKid);
      assert.equal((await readWith(url, `Bearer ${old.access_token}`)).status, 200);
    }
  });

  test('a restarted process keeps the keys it had', async () => {
    const before = (await request(urls[1], 'GET', '/.well-known/jwks.json', { auth: null })).body;
    const child = children[1];
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    await startProcess(Number(new URL(urls[1]).port));
    const again = (await request(urls[1], 'GET', '/.well-known/jwks.json', { auth: null })).body;
    assert.deepEqual(again, before);
  });
});
