// GET /metrics in Prometheus's text format, read back with an independent parser (parse-prometheus-text-format),
// and the probes GET /health/live and /health/ready.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { freePort } from '../helpers/server.ts';
import { spawnServer } from '../helpers/process.ts';
import { createClient, postForm } from '../helpers/oauth.ts';
import { basic, engines, ROOT, startTestServer, type TestServer } from '../helpers/server.ts';

const SCRAPER = { id: 'scraper', secret: 'scraper-secret' };
const APP = { id: 'metrics-app', secret: 'metrics-app-secret' };

/** Each counter's value by its labels, e.g. `warden_tokens_issued_total{grant="client_credentials"}`. */
function samples(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const family of parsePrometheusTextFormat(text)) {
    for (const sample of family.metrics) {
      if (sample.value === undefined) continue;
      const labels = Object.entries(sample.labels ?? {}).map(([name, value]) => `${name}="${value}"`).join(',');
      values.set(labels ? `${family.name}{${labels}}` : family.name, Number(sample.value));
    }
  }
  return values;
}

for (const engine of engines()) {
  describe(`metrics and probes (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { throttle: { identityLimit: 2, addressLimit: 1000, windowSeconds: 600, knownAddressSeconds: 0 } });
      await createClient(server, { ...SCRAPER, grant_types: ['basic'] });
      await createClient(server, { ...APP, grant_types: ['basic', 'client_credentials'] });
      await server.request('PUT', '/AccessPolicy/scrape-metrics', {
        body: { engine: 'matcho', matcho: { client: { id: SCRAPER.id }, uri: '/metrics', 'request-method': 'get' } },
      });
    });
    after(() => server.close());

    const scrape = async () => {
      const response = await fetch(`${server.url}/metrics`, { headers: { authorization: basic(SCRAPER.id, SCRAPER.secret) } });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
      return response.text();
    };

    test('GET /metrics needs a caller an AccessPolicy allows: 401 without credentials, 403 without a policy', async () => {
      assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
      assert.equal((await fetch(`${server.url}/metrics`, { headers: { authorization: basic(APP.id, APP.secret) } })).status, 403);
      await scrape();
    });

    test('the metrics parse as Prometheus text and count tokens by grant, auth failures, throttling, decisions and cache lookups', async () => {
      const before = samples(await scrape());
      assert.equal((await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, APP)).status, 200);
      const guesses = [];
      for (let i = 0; i < 3; i++) guesses.push((await fetch(`${server.url}/Patient`, { headers: { authorization: basic('victim', `guess-${i}`) } })).status);
      assert.deepEqual(guesses, [401, 401, 429]);
      const text = await scrape();
      const now = samples(text);
      const grew = (name: string) => (now.get(name) ?? 0) - (before.get(name) ?? 0);
      assert.equal(grew('warden_tokens_issued_total{grant="client_credentials"}'), 1);
      assert.equal(grew('warden_auth_failures_total{credential="client_secret"}'), 2);
      assert.equal(grew('warden_throttled_requests_total'), 1);
      assert.ok(grew('warden_cache_lookups_total{result="hit"}') + grew('warden_cache_lookups_total{result="miss"}') > 0);

      const families = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
      for (const name of ['warden_http_request_duration_seconds', 'warden_policy_decision_duration_seconds']) {
        assert.equal(families.get(name)?.type, 'HISTOGRAM', name);
      }
      assert.equal(families.get('warden_store_queries_in_flight')?.type, 'GAUGE');
      assert.equal(families.get('warden_process_resident_memory_bytes')?.type, 'GAUGE');
      // By route pattern and status, never by path: the throttled reads are one series.
      assert.match(text, /warden_http_request_duration_seconds_count\{method="GET",route="\/:type",status="429"\} [1-9]/);
      assert.match(text, /warden_http_request_duration_seconds_count\{method="POST",route="\/auth\/token",status="200"\} [1-9]/);
      assert.match(text, /warden_policy_decision_duration_seconds_count\{allowed="true"\} [1-9]/);
    });

    test('/health/live and /health/ready answer 200 while the server can serve', async () => {
      for (const path of ['/health/live', '/health/ready']) {
        const response = await fetch(`${server.url}${path}`);
        assert.equal(response.status, 200, path);
        assert.deepEqual(await response.json(), { status: 'pass' });
      }
    });

    test('/health/ready answers 503 naming the cause once the cache no longer follows the store (live stays 200)', async () => {
      await server.app.ctx.feed.stop();
      const ready = await fetch(`${server.url}/health/ready`);
      assert.equal(ready.status, 503);
      assert.match((await ready.json()).description, /the cache is not following the store's announcements/);
      assert.equal((await fetch(`${server.url}/health/live`)).status, 200);
    });
  });
}

test('with WARDEN_METRICS_PORT the metrics are served there, without credentials, and not on the main port', async () => {
  const metricsPort = await freePort();
  const server = await spawnServer({ WARDEN_DATA_DIR: 'memory://', WARDEN_METRICS_PORT: String(metricsPort) });
  try {
    const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(response.status, 200);
    assert.ok(parsePrometheusTextFormat(await response.text()).some((family) => family.name === 'warden_http_request_duration_seconds'));
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/Patient`)).status, 404);
    const main = await fetch(`${server.url}/metrics`, { headers: { authorization: basic(ROOT.id, ROOT.secret) } });
    assert.notEqual(main.status, 200);
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
});
