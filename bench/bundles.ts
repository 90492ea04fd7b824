// A 1,000-entry transaction Bundle (one patient's record: Encounters, Observations, Conditions, with urn:uuid
// references) against single PUTs of the same resources, in resources per second, per engine: one request and
// one database transaction against a thousand of each. The PUTs are sent one after another (as a loader without
// Bundles does) and from 10 connections at once.
//   npx tsx bench/bundles.ts          (PostgreSQL too when DATABASE_URL is set; BENCH_ROUNDS per case, default 3)
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { spawnServer } from '../test/helpers/process.ts';
import { request } from '../test/helpers/server.ts';
import { freshStore } from './store-api.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ENCOUNTERS = 100;
const OBSERVATIONS = 600;
const CONDITIONS = 299;
const CONNECTIONS = 10;

interface Item {
  uuid: string;
  id: string;
  resource: Record<string, unknown>;
}

/** One patient's record of 1,000 resources; `ref(item)` is how one names another (urn:uuid or Type/id). */
function record(ref: (item: Item) => string): Item[] {
  const item = (resource: Record<string, unknown>): Item => ({ uuid: `urn:uuid:${randomUUID()}`, id: randomUUID(), resource });
  const patient = item({ resourceType: 'Patient', name: [{ family: 'Bench', given: ['Bundle'] }], gender: 'female', birthDate: '1970-01-01' });
  const items = [patient];
  const encounters = Array.from({ length: ENCOUNTERS }, (_, i) =>
    item({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, period: { start: `2020-01-${String((i % 28) + 1).padStart(2, '0')}` } }),
  );
  items.push(...encounters);
  for (let i = 0; i < OBSERVATIONS; i++) {
    items.push(item({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, valueQuantity: { value: 60 + (i % 40), unit: '/min' }, encounterIndex: i % ENCOUNTERS }));
  }
  for (let i = 0; i < CONDITIONS; i++) {
    items.push(item({ resourceType: 'Condition', code: { text: `condition ${i}` }, encounterIndex: i % ENCOUNTERS }));
  }
  // References are filled in once every item has its uuid and id.
  for (const entry of items.slice(1)) {
    const { encounterIndex, ...body } = entry.resource as { encounterIndex?: number };
    entry.resource = { ...body, subject: { reference: ref(patient) } };
    if (encounterIndex !== undefined) entry.resource.encounter = { reference: ref(encounters[encounterIndex]) };
  }
  return items;
}

const typeOf = (item: Item) => item.resource.resourceType as string;

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

export async function run(): Promise<void> {
  const engines = process.env.DATABASE_URL ? (['pglite', 'postgres'] as const) : (['pglite'] as const);
  for (const engine of engines) {
    const { env, cleanup } = await freshStore(engine);
    const server = await spawnServer({ ...env, LOG_LEVEL: 'warn' });
    try {
      const rates = { transaction: [] as number[], sequential: [] as number[], concurrent: [] as number[] };
      for (let round = 0; round < ROUNDS; round++) {
        const bundleItems = record((item) => item.uuid);
        const bundle = {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: bundleItems.map((item) => ({ fullUrl: item.uuid, resource: item.resource, request: { method: 'POST', url: typeOf(item) } })),
        };
        rates.transaction.push(bundleItems.length / (await timed(async () => {
          const answer = await request(server.url, 'POST', '/', { body: bundle, headers: { prefer: 'return=minimal' } });
          if (answer.status !== 200) throw new Error(`transaction: ${answer.status} ${answer.text.slice(0, 300)}`);
        })));

        const put = async (item: Item) => {
          const answer = await request(server.url, 'PUT', `/${typeOf(item)}/${item.id}`, { body: { ...item.resource, id: item.id }, headers: { prefer: 'return=minimal' } });
          if (answer.status !== 201) throw new Error(`PUT: ${answer.status} ${answer.text.slice(0, 300)}`);
        };
        const sequentialItems = record((item) => `${typeOf(item)}/${item.id}`);
        rates.sequential.push(sequentialItems.length / (await timed(async () => {
          for (const item of sequentialItems) await put(item);
        })));
        const concurrentItems = record((item) => `${typeOf(item)}/${item.id}`);
        rates.concurrent.push(concurrentItems.length / (await timed(async () => {
          let next = 0;
          await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
            while (next < concurrentItems.length) await put(concurrentItems[next++]);
          }));
        })));
      }
      const best = (values: number[]) => Math.max(...values);
      const tx = best(rates.transaction);
      console.log(`${engine}: 1,000-entry transaction ${tx.toFixed(0)} resources/s; single PUTs one by one ${best(rates.sequential).toFixed(0)}/s ` +
        `(ratio ${(tx / best(rates.sequential)).toFixed(1)}x), from ${CONNECTIONS} connections ${best(rates.concurrent).toFixed(0)}/s ` +
        `(ratio ${(tx / best(rates.concurrent)).toFixed(1)}x); best of ${ROUNDS}; load average ${loadavg().map((n) => n.toFixed(2)).join(' ')} (shared machine)`);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      await cleanup();
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await run();
