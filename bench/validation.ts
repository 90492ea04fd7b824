// What validation costs a write: Patient and Observation creates through the API (real server processes,
// autocannon, root Basic auth) with WARDEN_VALIDATE_WRITES on and off, as a ratio on ÷ off (target ≥ 0.7),
// and the validation of one resource in process, in microseconds. The machine is shared and noisy: both
// servers run side by side for the whole benchmark and are measured in alternating short rounds (on, off, off,
// on, ...), and the figure is the median of the rounds' ratios, printed with the load average.
//   npx tsx bench/validation.ts   (PostgreSQL too when DATABASE_URL is set; BENCH_SECONDS per round, default 3;
//                                  BENCH_ROUNDS, default 5)
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { structureIssues } from '../src/validation/structure.ts';
import { spawnServer, type ServerProcess } from '../test/helpers/process.ts';
import { basic, ROOT } from '../test/helpers/server.ts';
import { freshStore, PATIENT } from './store-api.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = 10;
const BODIES: Record<string, Record<string, unknown>> = {
  Patient: PATIENT,
  Observation: {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
    subject: { reference: 'Patient/bench' },
    effectiveDateTime: '2024-05-01T10:00:00Z',
    valueQuantity: { value: 62, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
  },
};

/** Creates per second against a running server, for `SECONDS`. */
async function createsPerSecond(server: ServerProcess, type: string): Promise<number> {
  const headers = { authorization: basic(ROOT.id, ROOT.secret), 'content-type': 'application/fhir+json' };
  const body = JSON.stringify(BODIES[type]);
  const result = await autocannon({ url: `${server.url}/${type}`, connections: CONNECTIONS, duration: SECONDS, method: 'POST', headers, body });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${type}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return result['2xx'] / result.duration;
}

/** A server on a store of its own, warmed up: the first write loads and compiles the definitions. */
async function startServer(engine: 'pglite' | 'postgres', validate: boolean): Promise<{ server: ServerProcess; cleanup: () => Promise<void> }> {
  const { env, cleanup } = await freshStore(engine);
  const server = await spawnServer({ ...env, LOG_LEVEL: 'warn', WARDEN_VALIDATE_WRITES: String(validate) });
  const headers = { authorization: basic(ROOT.id, ROOT.secret), 'content-type': 'application/fhir+json' };
  for (const [type, body] of Object.entries(BODIES)) {
    const warm = await fetch(`${server.url}/${type}`, { method: 'POST', headers, body: JSON.stringify(body) });
    if (warm.status !== 201) throw new Error(`${type} warm-up: ${warm.status} ${await warm.text()}`);
  }
  return {
    server,
    async cleanup() {
      server.child.kill('SIGTERM');
      await server.exited;
      await cleanup();
    },
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const load = () => loadavg().map((n) => n.toFixed(2)).join(' ');

function microsecondsPerValidation(resource: Record<string, unknown>): number {
  structureIssues(resource);
  const rounds = 2000;
  const started = performance.now();
  for (let i = 0; i < rounds; i++) structureIssues(resource);
  return ((performance.now() - started) * 1000) / rounds;
}

export async function run(): Promise<void> {
  console.log(`validation: creates with WARDEN_VALIDATE_WRITES on vs off; ${CONNECTIONS} concurrent, ${ROUNDS} alternating rounds of ${SECONDS}s; load average ${load()}`);
  const engines = process.env.DATABASE_URL ? ['pglite', 'postgres'] as const : ['pglite'] as const;
  console.log('engine   | type        | on ops/s | off ops/s | on ÷ off (median of rounds) | min..max | µs per validation');
  for (const engine of engines) {
    const on = await startServer(engine, true);
    const off = await startServer(engine, false);
    try {
      for (const type of Object.keys(BODIES)) {
        const figures = { on: [] as number[], off: [] as number[], ratio: [] as number[] };
        for (let round = 0; round < ROUNDS; round++) {
          // Alternate which goes first, so a drift in the machine's load does not favour one side.
          const order = round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
          const rates = { on: 0, off: 0 };
          for (const side of order) rates[side] = await createsPerSecond(side === 'on' ? on.server : off.server, type);
          figures.on.push(rates.on);
          figures.off.push(rates.off);
          figures.ratio.push(rates.on / rates.off);
        }
        const spread = `${Math.min(...figures.ratio).toFixed(2)}..${Math.max(...figures.ratio).toFixed(2)}`;
        const cells = [engine.padEnd(8), type.padEnd(11), median(figures.on).toFixed(0).padStart(8), median(figures.off).toFixed(0).padStart(9),
          median(figures.ratio).toFixed(2).padStart(27), spread.padStart(8), microsecondsPerValidation(BODIES[type]).toFixed(0).padStart(17)];
        console.log(cells.join(' | '));
      }
    } finally {
      await on.cleanup();
      await off.cleanup();
    }
  }
  console.log(`load average after: ${load()}`);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await run();
