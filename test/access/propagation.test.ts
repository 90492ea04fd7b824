// A policy change reaches every server process at once: each listens on the database's notification channel.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApp, type App } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { PolicyStore } from '../../src/access/policy-store.ts';
import { createTestDatabase, engines, freePort, request, ROOT, startTestServer, type TestServer } from '../helpers/server.ts';
import { createClient, linkTo } from './fixtures.ts';

/** Resolves when `store` has loaded a set in which `check` holds. Registered before the change is made. */
function loaded(store: PolicyStore, check: (ids: string[]) => boolean): Promise<void> {
  return new Promise((resolve) => {
    const onChange = () => {
      if (!check(store.current.all.map((policy) => policy.id))) return;
      store.off('change', onChange);
      resolve();
    };
    store.on('change', onChange);
  });
}

for (const engine of engines()) {
  describe(`policy changes made outside the API (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      await createClient(server, 'c');
    });
    after(() => server.close());

    test('a policy written straight into the database is compiled through the notification', async () => {
      const seen = loaded(server.app.ctx.policies, (ids) => ids.includes('by-hand'));
      const policy = { resourceType: 'AccessPolicy', id: 'by-hand', engine: 'allow', link: linkTo('Client', 'c') };
      await server.app.ctx.db.query(
        `insert into resource (type, id, version_id, last_updated, deleted, resource) values ('AccessPolicy', 'by-hand', 1, now(), false, $1::text::jsonb)`,
        [JSON.stringify(policy)],
      );
      await seen;
      assert.equal((await server.request('GET', '/Patient', { auth: { id: 'c', secret: 'c-secret' } })).status, 200);
    });
  });
}

if (engines().includes('postgres')) {
  describe('two server processes on one PostgreSQL database', () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    const apps: { app: App; url: string }[] = [];

    before(async () => {
      database = await createTestDatabase();
      for (let i = 0; i < 2; i++) {
        const port = await freePort();
        const config: Config = {
          ...loadConfig({}),
          port,
          host: '127.0.0.1',
          baseUrl: `http://127.0.0.1:${port}`,
          databaseUrl: database.url,
          rootClient: ROOT,
          logLevel: 'silent',
        };
        const app = await startApp(config, { logger: false });
        await app.server.listen({ port, host: '127.0.0.1' });
        apps.push({ app, url: config.baseUrl });
      }
    });
    after(async () => {
      for (const { app } of apps) await app.close();
      await database.drop();
    });

    test('a policy written through one process is in force in the other', async () => {
      const [first, second] = apps;
      const reader = { id: 'reader', secret: 'reader-secret' };
      await request(first.url, 'PUT', '/Client/reader', { body: { resourceType: 'Client', secret: reader.secret, grant_types: ['basic'] } });
      assert.equal((await request(second.url, 'GET', '/Patient', { auth: reader })).status, 403);

      const granted = loaded(second.app.ctx.policies, (ids) => ids.includes('reader-reads'));
      const written = await request(first.url, 'PUT', '/AccessPolicy/reader-reads', {
        body: { resourceType: 'AccessPolicy', engine: 'matcho', link: linkTo('Client', 'reader'), matcho: { 'request-method': 'get' } },
      });
      assert.equal(written.status, 201, written.text);
      await granted;
      assert.equal((await request(second.url, 'GET', '/Patient', { auth: reader })).status, 200);

      const revoked = loaded(second.app.ctx.policies, (ids) => !ids.includes('reader-reads'));
      assert.equal((await request(first.url, 'DELETE', '/AccessPolicy/reader-reads')).status, 200);
      await revoked;
      assert.equal((await request(second.url, 'GET', '/Patient', { auth: reader })).status, 403);
    });

    test('a role given through one process is in force in the other', async () => {
      const [first, second] = apps;
      await request(first.url, 'PUT', '/User/u1', { body: { resourceType: 'User', password: 'pw-u1' } });
      await request(first.url, 'PUT', '/AccessPolicy/admins', { body: { resourceType: 'AccessPolicy', engine: 'allow', roleName: 'admin' } });
      const explain = () => request(second.url, 'POST', '/auth/test-policy', { body: { request: { method: 'GET', uri: '/Patient', user: 'u1' } } });
      assert.equal((await explain()).body.decision, 'deny');
      const store = second.app.ctx.policies;
      const given = new Promise<void>((resolve) => {
        const onChange = () => {
          if (store.current.rolesByUser.get('u1')?.includes('admin')) {
            store.off('change', onChange);
            resolve();
          }
        };
        store.on('change', onChange);
      });
      await request(first.url, 'PUT', '/Role/r1', { body: { resourceType: 'Role', name: 'admin', user: { id: 'u1' } } });
      await given;
      assert.equal((await explain()).body.decision, 'allow');
    });
  });
}

