// The audit trail's writer: events are queued in memory and written in batches, one transaction per batch, off
// the request path. A request does not wait for its events, unless auditing is mandatory. When the store cannot
// take them, they wait in the bounded queue and the writer retries with backoff; past the bound, new events are
// dropped, with a log line and a metric. What a crash (kill -9) loses is what was queued: README "Audit trail".
import type { AuditConfig } from '../config.ts';
import type { Resource } from '../fhir/resource.ts';
import { auditDropped, auditQueued, auditWriteFailures, auditWritten } from '../observe/metrics.ts';
import { auditIndexRows } from './index-rows.ts';
import type { Database } from '../store/database.ts';
import { appendLinks } from './chain.ts';
import type { AuditEventResource } from './event.ts';

/** The event could not be written (mandatory auditing answers 503). */
export class AuditUnavailable extends Error {}

interface Queued {
  event: AuditEventResource;
  /** Settled when the event is written, or when writing it failed once (for a waiting mandatory request). */
  waiter?: { resolve(): void; reject(error: Error): void };
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 10_000;
/** At most one "queue full" line per this interval, however many events are dropped. */
const DROP_LOG_INTERVAL_MS = 10_000;

/**
 * An event records what a caller sent (a name tried, a client id), and the store refuses the NUL character in
 * JSON: one such event would fail every batch it is in, for ever. It is kept, with U+FFFD in place of each NUL.
 */
function storable(event: AuditEventResource): AuditEventResource {
  const json = JSON.stringify(event);
  return json.includes('\\u0000') ? (JSON.parse(json.replaceAll('\\u0000', '\\ufffd')) as AuditEventResource) : event;
}

/**
 * Writes a batch: numbered and linked into the chain (which locks its head until commit), stored as AuditEvent
 * resources with their history version and search index, all in one transaction.
 */
async function writeBatch(db: Database, events: AuditEventResource[]): Promise<void> {
  await db.transaction(async (tx) => {
    const links = await appendLinks(tx, events);
    const lastUpdated = new Date().toISOString();
    const stored: Resource[] = links.map(({ event }) => ({ ...event, meta: { ...event.meta, versionId: '1', lastUpdated } }));
    await tx.query(
      `with created as (
         insert into resource (type, id, version_id, last_updated, deleted, resource)
         select 'AuditEvent', r->>'id', 1, $2::timestamptz, false, r from jsonb_array_elements($1::text::jsonb) r
         returning type, id, version_id, last_updated, deleted, resource)
       insert into resource_history (type, id, version_id, last_updated, deleted, resource) select * from created`,
      [JSON.stringify(stored), lastUpdated],
    );
    await tx.query(INSERT_INDEX_ROWS, indexRowsOf(stored));
  });
}

/**
 * The search index rows of new AuditEvents, all in one statement (src/search/index-writer.ts writes one resource
 * per statement, replacing its old rows; a new event has none): a batch costs a few round trips, not one per event.
 */
const INSERT_INDEX_ROWS = `
with
  new_string as (
    insert into search_string (type, id, code, value, raw)
    select 'AuditEvent', r.id, r.code, r.value, r.raw from jsonb_to_recordset($1::text::jsonb) as r(id text, code text, value text, raw text)),
  new_token as (
    insert into search_token (type, id, code, system, value)
    select 'AuditEvent', r.id, r.code, r.system, r.value from jsonb_to_recordset($2::text::jsonb) as r(id text, code text, system text, value text)),
  new_reference as (
    insert into search_reference (type, id, code, target_type, target_id, url)
    select 'AuditEvent', r.id, r.code, r.target_type, r.target_id, r.url
    from jsonb_to_recordset($3::text::jsonb) as r(id text, code text, target_type text, target_id text, url text)),
  new_date as (
    insert into search_date (type, id, code, low, high)
    select 'AuditEvent', r.id, r.code, r.low::timestamptz, r.high::timestamptz
    from jsonb_to_recordset($4::text::jsonb) as r(id text, code text, low text, high text))
select 1`;

function indexRowsOf(events: Resource[]): string[] {
  const all = { string: [] as object[], token: [] as object[], reference: [] as object[], date: [] as object[] };
  for (const event of events) {
    const rows = auditIndexRows(event);
    for (const kind of ['string', 'token', 'reference', 'date'] as const) for (const row of rows[kind]) all[kind].push({ ...row, id: event.id });
  }
  return [JSON.stringify(all.string), JSON.stringify(all.token), JSON.stringify(all.reference), JSON.stringify(all.date)];
}

export class AuditTrail {
  private queue: Queued[] = [];
  private writing: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = RETRY_MIN_MS;
  /** The last write failed: the store is taken to be down until a write succeeds. */
  private failing = false;
  private lastDropLog = 0;
  private closed = false;

  constructor(
    private readonly db: Database,
    readonly config: AuditConfig,
    private readonly warn: (message: string) => void,
  ) {
    auditQueued.set(0);
  }

  get enabled(): boolean {
    return this.config.enabled;
  }

  /**
   * Queues events. The promise settles when they are written (or writing failed): only mandatory auditing
   * waits for it; otherwise the caller goes on and it is never rejected unhandled.
   */
  record(events: AuditEventResource[], wait = false): Promise<void> {
    if (!this.config.enabled || events.length === 0) return Promise.resolve();
    if (this.closed || this.queue.length + events.length > this.config.queueLimit) {
      auditDropped.inc(events.length);
      const now = Date.now();
      if (now - this.lastDropLog > DROP_LOG_INTERVAL_MS) {
        this.lastDropLog = now;
        this.warn(
          this.closed
            ? `the audit trail is closed (shutting down): ${events.length} AuditEvent(s) recorded after it closed are dropped`
            : `audit queue full (${this.queue.length} events waiting, limit ${this.config.queueLimit}): AuditEvents are being dropped`,
        );
      }
      return wait ? Promise.reject(new AuditUnavailable(this.closed ? 'the audit trail is closed' : 'the audit queue is full')) : Promise.resolve();
    }
    events = events.map(storable);
    let settled: Promise<void> = Promise.resolve();
    if (wait) {
      settled = new Promise<void>((resolve, reject) => {
        let left = events.length;
        const waiter = { resolve: () => --left === 0 && resolve(), reject };
        for (const event of events) this.queue.push({ event, waiter });
      });
      // The store is known to be down: the request fails now rather than wait for the next retry.
      if (this.failing) this.failWaiters(new AuditUnavailable('the audit store is unavailable'));
    } else {
      for (const event of events) this.queue.push({ event });
    }
    auditQueued.set(this.queue.length);
    this.pump();
    return settled;
  }

  /** Events waiting to be written. */
  get queued(): number {
    return this.queue.length;
  }

  /** Resolves when everything queued so far is written (or the writer gave up after a failure). */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.writing) {
      if (this.writing) await this.writing;
      // Waiting for a retry, or closed after a failed attempt (a closed trail makes one attempt, not a loop).
      else if (this.retryTimer || (this.closed && this.failing)) return;
      else this.pump();
    }
  }

  /** Takes no more events and writes what is queued (one attempt). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    await this.flush();
  }

  private failWaiters(error: Error): void {
    for (const item of this.queue) {
      item.waiter?.reject(error);
      delete item.waiter;
    }
  }

  private pump(): void {
    if (this.writing || this.retryTimer || this.queue.length === 0) return;
    this.writing = this.writeAll().finally(() => {
      this.writing = null;
      // Events recorded while the last batch's waiters were being resolved found the writer still busy (after a
      // failure, the retry timer, or a closed trail's one attempt, decides instead).
      if (!this.failing) this.pump();
    });
  }

  private async writeAll(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.config.batchSize);
      try {
        await writeBatch(this.db, batch.map((item) => item.event));
      } catch (error) {
        auditWriteFailures.inc();
        if (!this.failing) this.warn(`writing AuditEvents failed, ${this.queue.length} waiting, retrying: ${(error as Error).message}`);
        this.failing = true;
        this.failWaiters(new AuditUnavailable('the audit store is unavailable'));
        if (!this.closed) this.scheduleRetry();
        return;
      }
      this.queue.splice(0, batch.length);
      auditQueued.set(this.queue.length);
      auditWritten.inc(batch.length);
      for (const item of batch) item.waiter?.resolve();
      if (this.failing) this.warn(`writing AuditEvents again; ${this.queue.length} still waiting`);
      this.failing = false;
      this.retryMs = RETRY_MIN_MS;
    }
  }

  private scheduleRetry(): void {
    const delay = this.retryMs;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.pump();
    }, delay);
    this.retryTimer.unref();
  }
}
