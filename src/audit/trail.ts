// The audit trail's writer: events are queued in memory and written in batches, one statement per batch, off
// the request path. A request does not wait for its events, unless auditing is mandatory. When the store cannot
// take them, they wait in the bounded queue and the writer retries with backoff; past the bound, new events are
// dropped, with a log line and a metric. What a crash (kill -9) loses is what was queued: README "Audit trail".
import type { AuditConfig } from '../config.ts';
import type { Resource } from '../fhir/resource.ts';
import { auditDropped, auditQueued, auditWriteFailures, auditWritten } from '../observe/metrics.ts';
import { auditIndexKeys, auditRecordedRow } from './index-rows.ts';
import type { Database, Queryable } from '../store/database.ts';
import { eventText, linkAfter, readHead, storedText, type ChainHead, type EventText } from './chain.ts';
import type { AuditEventResource } from './event.ts';

/** The event could not be written (mandatory auditing answers 503). */
export class AuditUnavailable extends Error {}

/** An event and its texts: the canonical one its chain link's hash covers, and those its stored JSON is spliced from. */
interface Pending {
  event: AuditEventResource;
  text: EventText;
}

interface Queued extends Pending {
  /** Settled when the event is written, or when writing it failed once (for a waiting mandatory request). */
  waiter?: { resolve(): void; reject(error: Error): void };
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 10_000;
/**
 * A batch starts at most this long after the one before (unless a whole batch is waiting): under load, events
 * gather into larger batches, and each batch's round trip and commit cost this process and the store as much
 * as ten events' rows (bench/audit-write.ts); an idle trail writes an event at once. It adds at most this to
 * what a crash can lose. Mandatory auditing does not gather: its requests wait for their batch.
 */
const GATHER_MS = 50;
/** At most one "queue full" line per this interval, however many events are dropped. */
const DROP_LOG_INTERVAL_MS = 10_000;

/**
 * An event records what a caller sent (a name tried, a client id), and the store refuses the NUL character in
 * JSON: one such event would fail every batch it is in, for ever. It is kept, with U+FFFD in place of each NUL.
 * The canonical text (which escapes a NUL as JSON does) tells, without serialising the event once more.
 */
function pending(event: AuditEventResource): Pending {
  const text = eventText(event);
  if (!text.content.includes('\\u0000')) return { event, text };
  const kept = JSON.parse(JSON.stringify(event).replaceAll('\\u0000', '\\ufffd')) as AuditEventResource;
  return { event: kept, text: eventText(kept) };
}

/**
 * Writes a batch in one statement: the chain's head moves from `head` to the batch's last link only if it is
 * still `head` (a conditional update, which waits for any other writer's transaction), and the events, their
 * links and search index rows are inserted only if it moved. An event is never changed, so it has no history
 * row: its one version is read from resource (migration 0170). Null when another process moved the head first.
 */
async function writeAfter(db: Queryable, head: ChainHead, events: Pending[]): Promise<ChainHead | null> {
  const links = linkAfter(head, events.map(({ text }) => text.content));
  const last = links[links.length - 1];
  const lastUpdated = new Date().toISOString();
  const stored = events.map(({ text }, i) => storedText(text, links[i], lastUpdated));
  const [row] = await db.query<{ moved: number }>(
    WRITE,
    [
      String(head.seq),
      head.hash,
      String(last.seq),
      last.hash,
      links.map((link) => String(link.seq)),
      events.map(({ event }) => event.id),
      links.map((link) => link.previous),
      links.map((link) => link.hash),
      lastUpdated,
      `[${stored.join(',')}]`,
      ...indexOf(events.map(({ event }) => event)),
    ],
    // Every text is JSON.stringify's or made of its output (chain.ts), which escapes a NUL.
    { textsHaveNoNul: true },
  );
  return row.moved === 1 ? { seq: last.seq, hash: last.hash } : null;
}

/**
 * Writes a batch after the chain head this process last wrote (read first when unknown): one statement, one
 * round trip. When another process wrote since, the head is locked and read, and the batch written after it.
 */
async function writeBatch(db: Database, known: ChainHead | null, events: Pending[]): Promise<ChainHead> {
  const written = await writeAfter(db, known ?? (await readHead(db)), events);
  if (written) return written;
  return db.transaction(async (tx) => {
    const head = await readHead(tx, true);
    const moved = await writeAfter(tx, head, events);
    if (!moved) throw new Error('the audit chain head moved while locked');
    return moved;
  });
}

/**
 * The statement of writeAfter. Every insert reads `moved`, the head row the update returned, so nothing is
 * written when the head was not where the writer thought. The links and the date rows come as one array per
 * column, unnested: cheaper for both sides than JSON objects read back with jsonb_to_recordset. An event's
 * tokens and references are keys in its own row (src/search/index-keys.ts), one JSON array per event beside its
 * stored JSON. (A batch's index is written here, not by src/search/index-writer.ts, which writes one resource
 * per statement, replacing its old index; a new event has none.)
 */
const WRITE = `
with
  moved as (
    update audit_chain_head set seq = $3::bigint, hash = $4 where seq = $1::bigint and hash = $2 returning 1),
  links as (
    insert into audit_chain (seq, id, previous, hash)
    select r.seq, r.id, r.previous, r.hash from moved, unnest($5::bigint[], $6::text[], $7::text[], $8::text[]) as r(seq, id, previous, hash)),
  created as (
    insert into resource (type, id, version_id, last_updated, deleted, resource, index_keys)
    select 'AuditEvent', e.r->>'id', 1, $9::timestamptz, false, e.r, array(select jsonb_array_elements_text(k.keys))
    from moved, jsonb_array_elements($10::text::jsonb) with ordinality e(r, n)
      join jsonb_array_elements($11::text::jsonb) with ordinality k(keys, n) on k.n = e.n),
  new_date as (
    insert into search_date (type, id, code, low, high)
    select 'AuditEvent', r.id, r.code, r.low::timestamptz, r.high::timestamptz
    from moved, unnest($12::text[], $13::text[], $14::text[], $15::text[]) as r(id, code, low, high))
select count(*)::int as moved from moved`;

/** The batch's index: each event's keys as one JSON array of arrays, and its date rows, one array per column. */
function indexOf(events: Resource[]): [keys: string, ...dateColumns: string[][]] {
  const keys: string[][] = [];
  const date: string[][] = [[], [], [], []];
  for (const event of events) {
    keys.push(auditIndexKeys(event));
    const recorded = auditRecordedRow(event);
    if (recorded) [event.id, recorded.code, recorded.low, recorded.high].forEach((value, i) => date[i].push(value));
  }
  return [JSON.stringify(keys), ...date];
}

export class AuditTrail {
  private queue: Queued[] = [];
  /** The chain's head as this process last wrote it; null until read. */
  private head: ChainHead | null = null;
  private writing: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Waiting for gatherMs to pass since the last batch started. */
  private gatherTimer: NodeJS.Timeout | null = null;
  /** When the last batch started (performance.now(): a clock set back does not hold the writer). */
  private lastBatchStarted = -Infinity;
  /** flush() or close() is waiting: batches start at once. */
  private flushing = 0;
  private retryMs = RETRY_MIN_MS;
  /** The last write failed: the store is taken to be down until a write succeeds. */
  private failing = false;
  private lastDropLog = 0;
  private closed = false;

  constructor(
    private readonly db: Database,
    readonly config: AuditConfig,
    private readonly warn: (message: string) => void,
    /** How long events gather after a batch started (GATHER_MS; a test sets its own). */
    private readonly gatherMs = GATHER_MS,
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
    const items = events.map(pending);
    let settled: Promise<void> = Promise.resolve();
    if (wait) {
      settled = new Promise<void>((resolve, reject) => {
        let left = items.length;
        const waiter = { resolve: () => --left === 0 && resolve(), reject };
        for (const item of items) this.queue.push({ ...item, waiter });
      });
      // The store is known to be down: the request fails now rather than wait for the next retry.
      if (this.failing) this.failWaiters(new AuditUnavailable('the audit store is unavailable'));
    } else {
      this.queue.push(...items);
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
    this.flushing++;
    try {
      while (this.queue.length > 0 || this.writing) {
        if (this.writing) await this.writing;
        // Waiting for a retry, or closed after a failed attempt (a closed trail makes one attempt, not a loop).
        else if (this.retryTimer || (this.closed && this.failing)) return;
        else this.pump();
      }
    } finally {
      this.flushing--;
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

  /** A batch may start now: gatherMs passed since the last one started, a whole batch waits, requests wait, or a flush. */
  private mayStartBatch(): boolean {
    return (
      this.config.mandatory ||
      this.flushing > 0 ||
      this.closed ||
      this.queue.length >= this.config.batchSize ||
      performance.now() - this.lastBatchStarted >= this.gatherMs
    );
  }

  private pump(): void {
    if (this.writing || this.retryTimer || this.queue.length === 0) return;
    if (this.gatherTimer) {
      if (!this.mayStartBatch()) return;
      clearTimeout(this.gatherTimer);
      this.gatherTimer = null;
    } else if (!this.mayStartBatch()) {
      this.gatherTimer = setTimeout(() => {
        this.gatherTimer = null;
        this.pump();
      }, this.lastBatchStarted + this.gatherMs - performance.now());
      this.gatherTimer.unref();
      return;
    }
    this.writing = this.writeAll().finally(() => {
      this.writing = null;
      // Events recorded while the last batch's waiters were being resolved found the writer still busy (after a
      // failure, the retry timer, or a closed trail's one attempt, decides instead).
      if (!this.failing) this.pump();
    });
  }

  private async writeAll(): Promise<void> {
    while (this.queue.length > 0 && this.mayStartBatch()) {
      this.lastBatchStarted = performance.now();
      const batch = this.queue.slice(0, this.config.batchSize);
      try {
        this.head = await writeBatch(this.db, this.head, batch);
      } catch (error) {
        // Whether it was written is not known (an answer lost after the commit): the head is read anew.
        this.head = null;
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
