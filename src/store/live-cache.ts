// The current Clients, Users and Sessions, kept in memory: every authenticated request needs its Client (and a
// token's Session and User), and reading them from the store each time was most of a request's cost.
//
// A change takes effect at once in every process, because a write of one of them is not answered until every
// server process has dropped its copy:
//   1. the writing process drops its own copy as soon as the write commits (ResourceStore tells it);
//   2. the database announces the change to every process (migration 0011: each update or delete of these
//      types notifies warden_live_changed, whoever makes it, by hand in SQL too);
//   3. the writer then sends a barrier, which every process answers once it has read all announcements
//      before it (PostgreSQL delivers notifications in commit order), and waits for the answers of every
//      process registered in warden_process (a heartbeat table).
// A process that cannot answer must not be trusted to have dropped anything, so each holds a lease: every
// PING_INTERVAL_MS it records its heartbeat and notifies itself with the time, and it uses its cache only while
// the last ping it received was sent less than LEASE_MS ago. A ping received proves every announcement
// committed before it was sent has been read. So a writer that waits ACK_TIMEOUT_MS (longer than the lease)
// for a silent process knows that process has, by then, either read the change or stopped using its cache:
// a lost LISTEN connection, a stalled event loop or a dead pool all end the lease.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Database } from './database.ts';
import type { Resource, ResourceStore } from './resource-store.ts';
import { cacheLookups } from '../observe/metrics.ts';

export const LIVE_CHANNEL = 'warden_live_changed';
const BARRIER_CHANNEL = 'warden_live_barrier';
const ACK_CHANNEL = 'warden_live_ack';
export const LIVE_TYPES = new Set(['Client', 'User', 'Session']);

const LIMIT = 20_000;
/** A bound on staleness should an announcement ever be lost without the connection dropping. */
const MAX_AGE_MS = 60_000;
const PING_INTERVAL_MS = 500;
const LEASE_MS = 1_500;
/** Longer than the lease: a process silent this long no longer uses its cache. */
const ACK_TIMEOUT_MS = 2_000;
/** A process whose heartbeat is older than this cannot hold a lease (the ping and the heartbeat are one statement). */
const PROCESS_TTL_SECONDS = 3;

interface Entry {
  resource: Resource;
  storedAt: number;
}

interface Barrier {
  waitingFor: Set<string>;
  done: () => void;
}

const keyOf = (type: string, id: string) => `${type}/${id}`;

export class LiveCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every eviction: a read that started before one may hold what it evicted, so is not kept. */
  private generation = 0;
  private listening = false;
  private readonly processId = randomBytes(12).toString('hex');
  /** When (this process's performance.now()) the newest ping it has received was sent. */
  private leaseFrom = -Infinity;
  private beating: Promise<unknown> = Promise.resolve();
  private barrierCount = 0;
  private readonly barriers = new Map<string, Barrier>();
  private heartbeat: NodeJS.Timeout | undefined;
  /** Followers of announcements that are not resources (see `follow`), by their type. */
  private readonly followers = new Map<string, { onAnnouncement: (id: string) => void; onReset: () => void }>();

  constructor(
    private readonly db: Database,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  /** Follows the changes other processes make, and those this process makes through `resources`. */
  async start(resources: ResourceStore): Promise<void> {
    resources.onWrite(async (type, id) => {
      if (!LIVE_TYPES.has(type)) return;
      this.evict(type, id);
      await this.barrier();
    });
    // Announcements sent while a connection was down are lost: every (re)start of listening forgets everything.
    const relisten = () => this.clear();
    // One connection carries every channel, so each process reads them all in commit order.
    await this.db.listen(
      LIVE_CHANNEL,
      (payload) => {
        const slash = payload.indexOf('/');
        this.evict(payload.slice(0, slash), payload.slice(slash + 1));
        this.followers.get(payload.slice(0, slash))?.onAnnouncement(payload.slice(slash + 1));
      },
      relisten,
    );
    await this.db.listen(
      BARRIER_CHANNEL,
      (payload) => {
        if (!payload.startsWith(this.processId)) void this.db.notify(ACK_CHANNEL, `${payload} ${this.processId}`).catch(() => {});
      },
      relisten,
    );
    await this.db.listen(
      ACK_CHANNEL,
      (payload) => {
        const [barrier, from] = payload.split(' ');
        const waiting = this.barriers.get(barrier);
        if (waiting && waiting.waitingFor.delete(from) && waiting.waitingFor.size === 0) waiting.done();
      },
      relisten,
    );
    if (this.db.engine === 'postgres') {
      await this.db.listen(this.pingChannel, (sentAt) => (this.leaseFrom = Math.max(this.leaseFrom, Number(sentAt))), relisten);
      await this.beat();
      this.heartbeat = setInterval(() => void this.beat(), PING_INTERVAL_MS).unref();
    }
    this.listening = true;
  }

  /** Leaves the other processes' barriers; called before the store closes. */
  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    this.listening = false;
    await this.beating;
    if (this.db.engine === 'postgres') await this.db.query('delete from warden_process where id = $1', [this.processId]).catch(() => {});
  }

  private get pingChannel() {
    return `warden_live_ping_${this.processId}`;
  }

  /** Is the cache following the store's announcements (GET /health/ready)? */
  following(): boolean {
    return this.usable();
  }

  /** May entries be served now? Only while listening and, with other processes about, under a live lease. */
  private usable(): boolean {
    return this.listening && (this.db.engine !== 'postgres' || performance.now() - this.leaseFrom < LEASE_MS);
  }

  /**
   * Has announcements of `type` (not a resource type) delivered to `onAnnouncement` in every process, with the
   * same guarantee as a change of a cached resource: see `announce`. `onReset` is called whenever some may have
   * been missed (listening restarted); while `following()` is false none may be relied on either.
   */
  follow(type: string, onAnnouncement: (id: string) => void, onReset: () => void): void {
    this.followers.set(type, { onAnnouncement, onReset });
  }

  /**
   * Tells every process `type/id` (this one at once) and resolves once every other process has read it or can
   * no longer be relying on what it had heard (its lease has run out). Never throws.
   */
  async announce(type: string, id: string): Promise<void> {
    this.followers.get(type)?.onAnnouncement(id);
    if (this.db.engine !== 'postgres') return; // the embedded store has no other process
    try {
      await this.db.notify(LIVE_CHANNEL, `${type}/${id}`);
    } catch {
      this.warn(`could not announce ${type} to the other server processes; waiting out their leases`);
      await new Promise((resolve) => setTimeout(resolve, ACK_TIMEOUT_MS));
      return;
    }
    await this.barrier();
  }

  /** The current, not deleted versions of the named resources; a missing one is absent from the result. */
  async read(wanted: { type: string; id: string }[]): Promise<Map<string, Resource>> {
    const found = new Map<string, Resource>();
    const missing: { type: string; id: string }[] = [];
    const now = Date.now();
    const usable = this.usable();
    for (const { type, id } of wanted) {
      if (id.includes('\u0000')) continue; // PostgreSQL text cannot hold it, so no such resource exists
      const entry = usable ? this.entries.get(keyOf(type, id)) : undefined;
      if (entry && now - entry.storedAt < MAX_AGE_MS) found.set(keyOf(type, id), entry.resource);
      else missing.push({ type, id });
    }
    cacheLookups.inc({ result: 'hit' }, found.size);
    cacheLookups.inc({ result: 'miss' }, missing.length);
    if (missing.length === 0) return found;
    const generation = this.generation;
    const rows = await this.db.query<{ type: string; id: string; resource: string }>(
      `select type, id, resource::text as resource from resource
       where not deleted and (type, id) in (select * from jsonb_to_recordset($1::text::jsonb) as w(type text, id text))`,
      [JSON.stringify(missing)],
    );
    const keep = this.usable() && generation === this.generation;
    for (const row of rows) {
      const resource = JSON.parse(row.resource) as Resource;
      found.set(keyOf(row.type, row.id), resource);
      if (keep && LIVE_TYPES.has(row.type)) this.remember(keyOf(row.type, row.id), resource, now);
    }
    return found;
  }

  /** One resource, as `read` gives it. */
  async get(type: string, id: string): Promise<Resource | null> {
    return (await this.read([{ type, id }])).get(keyOf(type, id)) ?? null;
  }

  /**
   * Resolves once every other process has read every announcement committed before this call, or can no
   * longer be using what it read before (its lease has run out). Never throws: the write it follows is committed.
   */
  private async barrier(): Promise<void> {
    if (this.db.engine !== 'postgres') return; // the embedded store has no other process
    const name = `${this.processId}:${++this.barrierCount}`;
    try {
      const rows = await this.db.query<{ id: string }>(
        `select id from warden_process where id <> $1 and seen_at > now() - make_interval(secs => $2)`,
        [this.processId, PROCESS_TTL_SECONDS],
      );
      if (rows.length === 0) return;
      const answered = new Promise<boolean>((resolve) => {
        this.barriers.set(name, { waitingFor: new Set(rows.map((row) => row.id)), done: () => resolve(true) });
      });
      await this.db.notify(BARRIER_CHANNEL, name);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ACK_TIMEOUT_MS)));
      const confirmed = await Promise.race([answered, timedOut]);
      clearTimeout(timer);
      if (!confirmed) this.warn(`${this.barriers.get(name)?.waitingFor.size} server process(es) did not confirm a Client/User/Session change in ${ACK_TIMEOUT_MS} ms`);
    } catch {
      // Whoever did not hear of the change has lost its lease once this wait is over.
      this.warn('could not confirm a Client/User/Session change with the other server processes; waiting out their leases');
      await new Promise((resolve) => setTimeout(resolve, ACK_TIMEOUT_MS));
    } finally {
      this.barriers.delete(name);
    }
  }

  /** Heartbeat and ping in one statement: a process whose heartbeat is stale cannot hold a lease. */
  private beat(): Promise<unknown> {
    this.beating = this.db
      .query(
        `with beat as (
           insert into warden_process (id, seen_at) values ($1, now()) on conflict (id) do update set seen_at = now()),
         gone as (delete from warden_process where seen_at < now() - interval '1 hour')
         select pg_notify($2, $3)`,
        [this.processId, this.pingChannel, String(performance.now())],
      )
      .catch(() => {});
    return this.beating;
  }

  private remember(key: string, resource: Resource, now: number) {
    this.entries.delete(key);
    this.entries.set(key, { resource, storedAt: now });
    if (this.entries.size > LIMIT) this.entries.delete(this.entries.keys().next().value!);
  }

  private evict(type: string, id: string) {
    if (!LIVE_TYPES.has(type)) return;
    this.generation++;
    this.entries.delete(keyOf(type, id));
  }

  private clear() {
    this.generation++;
    this.entries.clear();
    for (const follower of this.followers.values()) follower.onReset();
  }
}
