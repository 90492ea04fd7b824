// Export to an external audit repository (WARDEN_AUDIT_EXPORT_URL): the events, in chain order, POSTed as FHIR
// `collection` Bundles. A failed send is retried with exponential backoff; the position reached is kept in the
// chain's head row, so a restart goes on where the last process stopped. Several processes may export at once:
// the position only moves forward (compare-and-set), so a batch may at worst be sent twice, never skipped.
import type { AuditConfig } from '../config.ts';
import type { Resource } from '../fhir/resource.ts';
import { auditExported } from '../observe/metrics.ts';
import type { Database } from '../store/database.ts';

const BATCH = 500;
const IDLE_MS = 2_000;
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 300_000;
const SEND_TIMEOUT_MS = 30_000;

/** Sends the next batch; answers how many events went (0: nothing to send). Throws when the repository refused. */
export async function exportBatch(db: Database, config: AuditConfig, fetcher: typeof fetch = fetch): Promise<number> {
  const [{ exported }] = await db.query<{ exported: string }>('select exported_seq::text as exported from audit_chain_head');
  const rows = await db.query<{ seq: string; resource: string }>(
    `select c.seq::text as seq, r.resource::text as resource from audit_chain c
     join resource r on r.type = 'AuditEvent' and r.id = c.id where c.seq > $1 order by c.seq limit ${BATCH}`,
    [exported],
  );
  if (rows.length === 0) return 0;
  const last = rows[rows.length - 1].seq;
  const bundle = {
    resourceType: 'Bundle',
    type: 'collection',
    identifier: { system: 'https://warden.dev/fhir/audit-export', value: `${rows[0].seq}-${last}` },
    timestamp: new Date().toISOString(),
    entry: rows.map((row) => ({ resource: JSON.parse(row.resource) as Resource })),
  };
  const response = await fetcher(config.exportUrl!, {
    method: 'POST',
    headers: {
      'content-type': 'application/fhir+json',
      accept: 'application/fhir+json',
      ...(config.exportAuthorization && { authorization: config.exportAuthorization }),
    },
    body: JSON.stringify(bundle),
    signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
  });
  await response.body?.cancel();
  if (!response.ok) {
    auditExported.inc({ result: 'failed' }, rows.length);
    throw new Error(`the audit repository answered ${response.status}`);
  }
  await db.query('update audit_chain_head set exported_seq = $2 where exported_seq = $1', [exported, last]);
  auditExported.inc({ result: 'sent' }, rows.length);
  return rows.length;
}

/** Exports until stopped: at once while there is a backlog, every IDLE_MS when caught up, backing off on failure. */
export function startExporting(db: Database, config: AuditConfig, warn: (message: string) => void): () => Promise<void> {
  if (!config.enabled || !config.exportUrl) return async () => {};
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let retryMs = RETRY_MIN_MS;
  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = step();
    }, ms);
    timer.unref();
  };
  const step = async () => {
    try {
      const sent = await exportBatch(db, config);
      retryMs = RETRY_MIN_MS;
      schedule(sent === BATCH ? 0 : IDLE_MS);
    } catch (error) {
      warn(`exporting AuditEvents to the audit repository failed, retrying in ${Math.round(retryMs / 1000)} s: ${(error as Error).message}`);
      schedule(retryMs);
      retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
    }
  };
  schedule(0);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
