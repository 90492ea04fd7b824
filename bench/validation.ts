// What validation costs a write: Patient and Observation creates through the API (a real server process,
// autocannon, root Basic auth) with WARDEN_VALIDATE_WRITES on and off, as a ratio on ÷ off (target ≥ 0.7),
// and the validation of one resource in process, in microseconds.
//   npx tsx bench/validation.ts        (PostgreSQL too when DATABASE_URL is set; BENCH_SECONDS per case, default 5)
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { structureIssues } from '../src/validation/structure.ts';
import { spawnServer } from '../test/helpers/process.ts';
import { basic, ROOT } from '../test/helpers/server.ts';
import { freshStore, PATIENT } from './store-api.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
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

async function createsPerSecond(env: Record<string, string>, type: string): Promise<number> {
  const server = await spawnServer({ ...env, LOG_LEVEL: 'warn' });
  try {
    const headers = { authorization: basic(ROOT.id, ROOT.secret), 'content-type': 'application/fhir+json' };
    const body = JSON.stringify(BODIES[type]);
    // The first write loads and compiles the definitions: keep it out of the measurement.
    const warm = await fetch(`${server.url}/${type}`, { method: 'POST', headers, body });
    if (warm.status !== 201) throw new Error(`${type} warm-up: ${warm.status} ${await warm.text()}`);
    const result = await autocannon({ url: `${server.url}/${type}`, connections: CONNECTIONS, duration: SECONDS, method: 'POST', headers, body });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${type}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
    return result['2xx'] / result.duration;
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
}

function microsecondsPerValidation(resource: Record<string, unknown>): number {
  structureIssues(resource);
  const rounds = 2000;
  const started = performance.now();
  for (let i = 0; i < rounds; i++) structureIssues(resource);
  return ((performance.now() - started) * 1000) / rounds;
}

export async function run(): Promise<void> {
  console.log(`validation: creates with WARDEN_VALIDATE_WRITES on vs off; ${CONNECTIONS} concurrent, ${SECONDS}s per case`);
  const engines = process.env.DATABASE_URL ? ['pglite', 'postgres'] as const : ['pglite'] as const;
  console.log('engine   | type        | on ops/s | off ops/s | on ÷ off | µs per validation');
  for (const engine of engines) {
    for (const type of Object.keys(BODIES)) {
      const figures: Record<string, number> = {};
      for (const setting of ['true', 'false']) {
        const { env, cleanup } = await freshStore(engine);
        try {
          figures[setting] = await createsPerSecond({ ...env, WARDEN_VALIDATE_WRITES: setting }, type);
        } finally {
          await cleanup();
        }
      }
      const cells = [engine.padEnd(8), type.padEnd(11), figures.true.toFixed(0).padStart(8), figures.false.toFixed(0).padStart(9),
        (figures.true / figures.false).toFixed(2).padStart(8), microsecondsPerValidation(BODIES[type]).toFixed(0).padStart(17)];
      console.log(cells.join(' | '));
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await run();
