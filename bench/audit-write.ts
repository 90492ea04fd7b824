// What one AuditEvent costs to build and to write, by batch size, without HTTP: the trail's part of bench/audit.ts
// taken apart. For each batch size, events like a Bearer read's (IHE.BasicAudit.PatientRead) are recorded in
// batches of that size and flushed, on a fresh store; printed: this process's CPU and its PostgreSQL backend's
// CPU per event, and the building alone (the event and its chain content, no store).
//   DATABASE_URL=postgres://... npx tsx bench/audit-write.ts
//   BENCH_EVENTS=3000 BENCH_BATCHES=1,2,5,20,200
//   BENCH_SETUP_SQL="alter table resource set (toast_tuple_target = 8160)"   run on each fresh store first (what if)
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { restEvent } from '../src/audit/event.ts';
import { AuditTrail } from '../src/audit/trail.ts';
import { loadConfig } from '../src/config.ts';
import { backendPids, cpuSeconds } from './cpu.ts';
import { openTestStore } from '../test/helpers/server.ts';

const events = Number(process.env.BENCH_EVENTS ?? 3000);
const batches = (process.env.BENCH_BATCHES ?? '1,2,5,20,200').split(',').map(Number);
const actor = { clientId: 'bench', address: '127.0.0.1', allowedBy: 'policy bench' };
const readEvent = (n: number) =>
  restEvent({ interaction: 'read', type: 'Patient', id: 'bench', patients: ['bench'], outcome: '0' }, { ...actor, requestId: `req-${n}` });

const selfCpu = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

export async function run(): Promise<void> {
  console.log(`audit write: ${events} PatientRead events per batch size, ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded store'}; load average ${loadavg()[0].toFixed(1)}`);
  let began = selfCpu();
  for (let i = 0; i < events; i++) readEvent(i);
  console.log(`  building an event: ${(((selfCpu() - began) * 1e6) / events).toFixed(1)} µs`);
  for (const batchSize of batches) {
    const store = await openTestStore(process.env.DATABASE_URL ? 'postgres' : 'pglite');
    try {
      if (process.env.BENCH_SETUP_SQL) await store.db.exec(process.env.BENCH_SETUP_SQL);
      const trail = new AuditTrail(store.db, { ...loadConfig({}).audit, batchSize, queueLimit: events + batchSize }, (message) => console.warn(message));
      // Warm-up: prepared statement, JIT.
      await trail.record(Array.from({ length: batchSize }, (_, i) => readEvent(i)));
      await trail.flush();
      const name = store.url && new URL(store.url).pathname.slice(1);
      const backends = await backendPids(name);
      const [node, postgres] = [selfCpu(), cpuSeconds(backends)];
      began = performance.now();
      for (let written = 0; written < events; written += batchSize) {
        void trail.record(Array.from({ length: batchSize }, (_, i) => readEvent(written + i)));
        await trail.flush();
      }
      const elapsed = performance.now() - began;
      const per = (seconds: number) => ((seconds * 1e6) / events).toFixed(0).padStart(4);
      console.log(`  batches of ${String(batchSize).padStart(3)}: CPU µs/event: node ${per(selfCpu() - node)}, PostgreSQL ${per(cpuSeconds(backends) - postgres)}; ${((events / elapsed) * 1000).toFixed(0)} events/s (load ${loadavg()[0].toFixed(1)})`);
    } finally {
      await store.close();
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
