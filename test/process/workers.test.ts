// WARDEN_WORKERS: a supervisor and workers on one port (node:cluster), on PostgreSQL. A worker killed under load
// is replaced, and no request fails beyond those the killed worker had in hand; SIGTERM stops them all cleanly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { spawnServer } from '../helpers/process.ts';
import { basic, createTestDatabase, freePort, ROOT } from '../helpers/server.ts';

const CONCURRENCY = 4;

const readyPids = (output: string) =>
  output.split('\n').filter((line) => line.includes('"warden is ready"')).map((line) => (JSON.parse(line) as { pid: number }).pid);

/** Waits until `count` workers have said they are ready (the log is read, not a clock). */
async function untilReady(server: { output(): string }, count: number): Promise<number[]> {
  while (readyPids(server.output()).length < count) await new Promise((resolve) => setTimeout(resolve, 20));
  return readyPids(server.output());
}

test('a worker killed under load is replaced, with no failed request beyond those in flight', { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL' }, async () => {
  const database = await createTestDatabase();
  const metricsPort = await freePort();
  const server = await spawnServer({ DATABASE_URL: database.url, WARDEN_WORKERS: '2', WARDEN_METRICS_PORT: String(metricsPort) });
  try {
    await server.waitForLine(/supervising workers/);
    const [victim] = await untilReady(server, 2);

    let phase: 'before' | 'after' = 'before';
    const failures = { before: 0, after: 0 };
    let served = 0;
    let replaced = false;
    const replacement = server.waitForLine(/a worker died; replacing it/).then(async () => {
      // The replacement is taking requests once it says it is ready.
      await untilReady(server, 3);
      replaced = true;
    });
    const load = async () => {
      for (let after = 0; !replaced || after < 50; ) {
        const phaseAtSend = phase;
        try {
          const response = await fetch(`${server.url}/Patient?_count=1`, { headers: { authorization: basic(ROOT.id, ROOT.secret) } });
          await response.arrayBuffer();
          if (response.status !== 200) throw new Error(`status ${response.status}`);
          served++;
        } catch {
          failures[phaseAtSend]++;
        }
        if (replaced) after++;
      }
    };
    const loaders = Array.from({ length: CONCURRENCY }, load);
    while (served < 100) await new Promise((resolve) => setTimeout(resolve, 20));
    process.kill(victim, 'SIGKILL');
    await replacement;
    phase = 'after';
    await Promise.all(loaders);

    assert.ok(failures.before <= CONCURRENCY, `${failures.before} requests failed around the kill, more than the ${CONCURRENCY} in flight`);
    assert.equal(failures.after, 0, 'no request fails once the worker is replaced');

    // The supervisor sums both workers' metrics on its port.
    const metrics = parsePrometheusTextFormat(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
    const pool = metrics.find((family) => family.name === 'warden_store_pool_size');
    assert.equal(Number(pool?.metrics[0].value), 20, 'two workers of 10 connections each');
  } finally {
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, server.output().slice(-2000));
    await database.drop();
  }
});
