// Proxy headers (X-Forwarded-For/-Proto) decide the caller's address and scheme only when WARDEN_TRUST_PROXY
// says who the proxy is. Otherwise any caller could pick the address its failures are counted against, and
// escape brute-force throttling (OWASP ASVS 5.0 V6.3.1), or the address and scheme an AccessPolicy checks.
// RFC 7239 §8.1: the header can be set by anyone on the path; only a known proxy's entry is worth anything.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Config } from '../../src/config.ts';
import { basic, engines, startTestServer, type TestServer } from '../helpers/server.ts';

const PROXY = '127.0.0.9';
const SOMEONE_ELSE = '127.0.0.5';
const CALLER = { id: 'proxied', secret: 'proxied-secret' };

/** A raw GET of /Patient from `localAddress` (any of 127.0.0.0/8 reaches the server) with `headers`. */
function getFrom(server: TestServer, localAddress: string, headers: Record<string, string>, secret = CALLER.secret) {
  return new Promise<number>((resolve, reject) => {
    const outgoing = httpRequest(
      `${server.url}/Patient`,
      { localAddress, headers: { authorization: basic(CALLER.id, secret), ...headers } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode!));
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

async function serverWith(engine: Parameters<typeof startTestServer>[0], overrides: Partial<Config>): Promise<TestServer> {
  const server = await startTestServer(engine, overrides);
  await server.request('PUT', `/Client/${CALLER.id}`, { body: { secret: CALLER.secret, grant_types: ['basic'] } });
  // Only callers at 203.0.113.7 over https may read: what the proxy says, if it is believed.
  await server.request('PUT', '/AccessPolicy/from-the-office', {
    body: { engine: 'matcho', matcho: { client: { id: CALLER.id }, 'remote-addr': '203.0.113.7', scheme: 'https' } },
  });
  return server;
}

const FORWARDED = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' };

for (const engine of engines()) {
  describe(`proxy headers (${engine})`, () => {
    describe('without WARDEN_TRUST_PROXY', () => {
      let server: TestServer;
      before(async () => (server = await serverWith(engine, { throttle: { identityLimit: 100, addressLimit: 3, windowSeconds: 600, knownAddressSeconds: 0 } })));
      after(() => server.close());

      test('X-Forwarded-For and X-Forwarded-Proto are ignored: the policy sees the connection (RFC 7239 §8.1)', async () => {
        assert.equal(await getFrom(server, PROXY, FORWARDED), 403);
      });

      test('a new X-Forwarded-For on every guess does not escape the address throttle (ASVS 5.0 V6.3.1)', async () => {
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++) statuses.push(await getFrom(server, SOMEONE_ELSE, { 'x-forwarded-for': `198.51.100.${i}` }, `guess-${i}`));
        assert.deepEqual(statuses, [401, 401, 401, 429]);
      });
    });

    describe('with WARDEN_TRUST_PROXY naming the proxy address', () => {
      let server: TestServer;
      before(async () => {
        server = await serverWith(engine, {
          trustProxy: [`${PROXY}/32`],
          throttle: { identityLimit: 100, addressLimit: 3, windowSeconds: 600, knownAddressSeconds: 0 },
        });
      });
      after(() => server.close());

      test('the proxy\'s X-Forwarded-For and X-Forwarded-Proto are the caller\'s address and scheme', async () => {
        assert.equal(await getFrom(server, PROXY, FORWARDED), 200);
      });

      test('the same headers from any other address are ignored (RFC 7239 §8.1)', async () => {
        assert.equal(await getFrom(server, SOMEONE_ELSE, FORWARDED), 403);
      });

      test('failures are counted against the forwarded address, so one client behind the proxy does not lock out the others (ASVS 5.0 V6.3.1)', async () => {
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++) statuses.push(await getFrom(server, PROXY, { 'x-forwarded-for': '198.51.100.66' }, `guess-${i}`));
        assert.deepEqual(statuses, [401, 401, 401, 429]);
        assert.equal(await getFrom(server, PROXY, FORWARDED), 200, 'another client behind the same proxy');
      });
    });

    describe('with WARDEN_TRUST_PROXY as a hop count', () => {
      let server: TestServer;
      before(async () => (server = await serverWith(engine, { trustProxy: 1 })));
      after(() => server.close());

      test('only the entry the nearest proxy added counts: a caller-supplied one further left is ignored', async () => {
        const spoofedLeft = { 'x-forwarded-for': '203.0.113.7, 192.0.2.1', 'x-forwarded-proto': 'https' };
        assert.equal(await getFrom(server, SOMEONE_ELSE, spoofedLeft), 403);
        assert.equal(await getFrom(server, SOMEONE_ELSE, { 'x-forwarded-for': '192.0.2.1, 203.0.113.7', 'x-forwarded-proto': 'https' }), 200);
      });
    });
  });
}
