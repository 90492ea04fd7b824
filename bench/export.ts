// Bulk Data export against the store's own fastest way out: 100,000 Patients exported as NDJSON by a real
// server process (kick-off → status polling → manifest, chunks of WARDEN_EXPORT_CHUNK_SIZE), beside a plain
// `COPY (select resource ...) TO STDOUT` of the same rows, interleaved round by round (the machine is shared and
// noisy: medians). Memory: the server's peak RSS (VmHWM) after exporting 10,000 resources, then 100,000, then
// every round: flat in the resource count when they are close. Target: export ≥ 0.3 of COPY's rate.
//   DATABASE_URL=... npx tsx bench/export.ts     (BENCH_EXPORT_ROUNDS, default 3; BENCH_EXPORT_COUNT, default 100000)
// The COPY peer needs PostgreSQL; without DATABASE_URL only the embedded store's export rate is measured.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { processStore, spawnServer, withProcessStore, type ServerProcess } from '../test/helpers/process.ts';
import { basic, ROOT } from '../test/helpers/server.ts';

const COUNT = Number(process.env.BENCH_EXPORT_COUNT ?? 100_000);
const SMALL = COUNT / 10;
const ROUNDS = Number(process.env.BENCH_EXPORT_ROUNDS ?? 3);
const auth = { authorization: basic(ROOT.id, ROOT.secret) };

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** COUNT Patients and SMALL Observations of a realistic size, written straight into the store. */
async function seed(env: Record<string, string>): Promise<void> {
  await withProcessStore(env, async (db) => {
    await db.query(
      `insert into resource (type, id, version_id, last_updated, deleted, resource)
       select 'Patient', id, 1, now() - interval '1 minute', false, jsonb_build_object(
         'resourceType', 'Patient', 'id', id, 'meta', jsonb_build_object('versionId', '1'), 'active', true,
         'identifier', jsonb_build_array(jsonb_build_object('system', 'http://hospital.example/mrn', 'value', 'MRN' || id)),
         'name', jsonb_build_array(jsonb_build_object('family', 'Family' || id, 'given', jsonb_build_array('Given', 'Middle'))),
         'gender', 'female', 'birthDate', '1970-01-01',
         'address', jsonb_build_array(jsonb_build_object('line', jsonb_build_array(id || ' Main Street'), 'city', 'Springfield', 'postalCode', '12345')))
       from (select 'p' || lpad(i::text, 7, '0') as id from generate_series(1, $1::int) i) ids`,
      [COUNT],
    );
    await db.query(
      `insert into resource (type, id, version_id, last_updated, deleted, resource)
       select 'Observation', id, 1, now() - interval '1 minute', false, jsonb_build_object(
         'resourceType', 'Observation', 'id', id, 'status', 'final', 'code', jsonb_build_object('text', 'heart rate'),
         'valueQuantity', jsonb_build_object('value', 60, 'unit', '/min'))
       from (select 'o' || lpad(i::text, 7, '0') as id from generate_series(1, $1::int) i) ids`,
      [SMALL],
    );
    if (db.engine === 'postgres') await db.query('analyze resource');
  });
}

/** Seconds from kick-off to the manifest, and the resources the manifest counts. */
async function exportSeconds(server: ServerProcess, type: string): Promise<{ seconds: number; resources: number }> {
  const started = performance.now();
  const kickoff = await fetch(`${server.url}/$export?_type=${type}`, { headers: { ...auth, prefer: 'respond-async' } });
  if (kickoff.status !== 202) throw new Error(`kick-off: ${kickoff.status} ${await kickoff.text()}`);
  const status = kickoff.headers.get('content-location')!;
  for (;;) {
    const response = await fetch(status, { headers: auth });
    if (response.status === 200) {
      const manifest = (await response.json()) as { output: { count: number }[] };
      return { seconds: (performance.now() - started) / 1000, resources: manifest.output.reduce((sum, file) => sum + file.count, 0) };
    }
    if (response.status !== 202) throw new Error(`status: ${response.status} ${await response.text()}`);
    await response.text();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Seconds for COPY of the same rows, streamed to this process and counted. */
async function copySeconds(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const started = performance.now();
    const stream = await sql`copy (select resource from resource where type = 'Patient' and not deleted order by id) to stdout`.readable();
    let bytes = 0;
    for await (const chunk of stream) bytes += (chunk as Buffer).length;
    if (bytes === 0) throw new Error('COPY gave nothing');
    return (performance.now() - started) / 1000;
  } finally {
    await sql.end();
  }
}

/** The process's peak resident memory, in MiB (Linux /proc). */
const peakMiB = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

export async function run(): Promise<void> {
  const engines = process.env.DATABASE_URL ? (['postgres', 'pglite'] as const) : (['pglite'] as const);
  console.log(`export: ${COUNT} Patients as NDJSON vs COPY TO of the same rows; ${ROUNDS} interleaved rounds, medians; load average ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
  console.log(`engine   | export res/s | COPY res/s | export ÷ COPY | peak RSS (MiB): after ${SMALL} | after ${COUNT} | after ${ROUNDS} × ${COUNT}`);
  for (const engine of engines) {
    const { env, cleanup } = await processStore(engine);
    let server: ServerProcess | undefined;
    try {
      await seed(env);
      const chunk = process.env.WARDEN_EXPORT_CHUNK_SIZE;
      server = await spawnServer({ ...env, LOG_LEVEL: 'warn', ...(chunk && { WARDEN_EXPORT_CHUNK_SIZE: chunk }) });
      await exportSeconds(server, 'Observation');
      const peakSmall = peakMiB(server.child.pid!);
      let peakFirst = 0;
      const exportRates: number[] = [];
      const copyRates: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        if (engine === 'postgres') copyRates.push(COUNT / (await copySeconds(env.DATABASE_URL)));
        const { seconds, resources } = await exportSeconds(server, 'Patient');
        if (resources !== COUNT) throw new Error(`exported ${resources} of ${COUNT}`);
        exportRates.push(COUNT / seconds);
        if (round === 0) peakFirst = peakMiB(server.child.pid!);
      }
      const peakLarge = peakMiB(server.child.pid!);
      const exportRate = median(exportRates);
      const copyRate = copyRates.length > 0 ? median(copyRates) : NaN;
      console.log([engine.padEnd(8), exportRate.toFixed(0).padStart(12), (Number.isNaN(copyRate) ? '-' : copyRate.toFixed(0)).padStart(10),
        (Number.isNaN(copyRate) ? '-' : (exportRate / copyRate).toFixed(2)).padStart(13), peakSmall.toFixed(0).padStart(18), peakFirst.toFixed(0).padStart(14), peakLarge.toFixed(0).padStart(17)].join(' | '));
    } finally {
      if (server) {
        server.child.kill('SIGTERM');
        await server.exited;
      }
      await cleanup();
    }
  }
  console.log(`load average after: ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await run();
