import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('configuration from the environment', () => {
  test('defaults: port 8080, embedded store in ./data, base URL from the port, no root client', () => {
    const config = loadConfig({});
    assert.equal(config.port, 8080);
    assert.equal(config.baseUrl, 'http://localhost:8080');
    assert.equal(config.dataDir, './data');
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.rootClient, undefined);
  });

  test('PORT sets the port and the default base URL; WARDEN_BASE_URL loses its trailing slash', () => {
    assert.equal(loadConfig({ PORT: '9000' }).baseUrl, 'http://localhost:9000');
    assert.equal(loadConfig({ WARDEN_BASE_URL: 'https://warden.example.com/' }).baseUrl, 'https://warden.example.com');
  });

  test('a PORT that is not an integer from 0 to 65535 is a ConfigError naming PORT', () => {
    for (const bad of ['abc', '-1', '65536', '80.5', ' ', '0x50', '1e3', '80 ']) {
      assert.throws(() => loadConfig({ PORT: bad }), (error: unknown) => error instanceof ConfigError && /^PORT must be an integer between 0 and 65535/.test(error.message), `PORT="${bad}"`);
    }
  });

  test('a WARDEN_BASE_URL that is not an absolute URL is a ConfigError', () => {
    assert.throws(() => loadConfig({ WARDEN_BASE_URL: 'not a url' }), ConfigError);
  });

  test('WARDEN_ROOT_CLIENT_ID and _SECRET name the root client; the id defaults to "root"', () => {
    assert.deepEqual(loadConfig({ WARDEN_ROOT_CLIENT_ID: 'admin', WARDEN_ROOT_CLIENT_SECRET: 's' }).rootClient, { id: 'admin', secret: 's' });
    assert.deepEqual(loadConfig({ WARDEN_ROOT_CLIENT_SECRET: 's' }).rootClient, { id: 'root', secret: 's' });
  });

  test("Aidbox's BOX_ROOT_CLIENT_ID and _SECRET are accepted too; Warden's own names win", () => {
    assert.deepEqual(loadConfig({ BOX_ROOT_CLIENT_ID: 'box', BOX_ROOT_CLIENT_SECRET: 'bs' }).rootClient, { id: 'box', secret: 'bs' });
    assert.deepEqual(
      loadConfig({ BOX_ROOT_CLIENT_ID: 'box', BOX_ROOT_CLIENT_SECRET: 'bs', WARDEN_ROOT_CLIENT_ID: 'w', WARDEN_ROOT_CLIENT_SECRET: 'ws' }).rootClient,
      { id: 'w', secret: 'ws' },
    );
  });

  test('the administrator WARDEN_ADMIN_PASSWORD makes is User warden-admin, not the seeds\' "admin"; WARDEN_ADMIN_USER renames it', () => {
    assert.equal(loadConfig({}).adminUser, 'warden-admin');
    assert.equal(loadConfig({ WARDEN_ADMIN_USER: 'ops.admin' }).adminUser, 'ops.admin');
    assert.throws(() => loadConfig({ WARDEN_ADMIN_USER: 'no spaces' }), (error: unknown) => error instanceof ConfigError && /^WARDEN_ADMIN_USER must be a resource id/.test(error.message));
  });

  test('WARDEN_CORS_ORIGINS is a comma-separated list; unset or * allows any origin', () => {
    assert.deepEqual(loadConfig({ WARDEN_CORS_ORIGINS: 'https://a.example, https://b.example' }).corsOrigins, ['https://a.example', 'https://b.example']);
    assert.equal(loadConfig({}).corsOrigins, true);
    assert.equal(loadConfig({ WARDEN_CORS_ORIGINS: '*' }).corsOrigins, true);
  });

  test('other integer settings are checked the same way', () => {
    assert.throws(() => loadConfig({ WARDEN_BODY_LIMIT: '10' }), /WARDEN_BODY_LIMIT must be an integer between 1024/);
    assert.throws(() => loadConfig({ WARDEN_MAX_BODY_DEPTH: 'deep' }), /WARDEN_MAX_BODY_DEPTH/);
    assert.equal(loadConfig({ WARDEN_BODY_LIMIT: '2048' }).bodyLimit, 2048);
  });

  test('WARDEN_TRUST_PROXY is off by default, a hop count, or a list of addresses and CIDR ranges', () => {
    assert.equal(loadConfig({}).trustProxy, false);
    assert.equal(loadConfig({ WARDEN_TRUST_PROXY: '0' }).trustProxy, false);
    assert.equal(loadConfig({ WARDEN_TRUST_PROXY: '2' }).trustProxy, 2);
    assert.deepEqual(loadConfig({ WARDEN_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1, ::1/128' }).trustProxy, ['10.0.0.0/8', '127.0.0.1', '::1/128']);
    for (const bad of ['10.0.0.0/33', 'proxy.example', '10.0.0.1/8/8', '::1/129', 'true']) {
      assert.throws(() => loadConfig({ WARDEN_TRUST_PROXY: bad }), /WARDEN_TRUST_PROXY must be a hop count or a list/, bad);
    }
  });

  test('request, headers, keep-alive and idle timeouts default to bounded values; headers may not outlast the request', () => {
    assert.deepEqual(loadConfig({}).timeouts, { requestMs: 30_000, headersMs: 10_000, keepAliveMs: 72_000, idleMs: 120_000 });
    assert.equal(loadConfig({ WARDEN_REQUEST_TIMEOUT_MS: '5000' }).timeouts.headersMs, 5000);
    assert.throws(() => loadConfig({ WARDEN_REQUEST_TIMEOUT_MS: '1000', WARDEN_HEADERS_TIMEOUT_MS: '2000' }), /must not exceed WARDEN_REQUEST_TIMEOUT_MS/);
    assert.throws(() => loadConfig({ WARDEN_IDLE_TIMEOUT_MS: '0' }), ConfigError);
  });
});
