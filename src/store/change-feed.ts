// One feed of changes to the IAM resources that server processes keep in memory (projections): the LiveCache
// of Clients, Users and Sessions, the compiled AccessPolicies and Roles, the TokenIntrospectors.
//
// A change takes effect at once in every process, because a write of one of them is not answered until every
// server process has applied it:
//   1. the writing process applies it as soon as the write commits (ResourceStore tells it);
//   2. the database announces the change to every process (migration 0140: each write of these types
//      notifies warden_resource_changed, whoever makes it, by hand in SQL too);
//   3. the writer then sends a barrier, which every process answers once it has read all announcements
//      before it (PostgreSQL delivers notifications in commit order), and waits for the answers of every
//      process registered in warden_process (a heartbeat table).
// A projection applies an announcement as it reads it, before the next one: it drops its copy, or marks itself
// stale so that its next use waits for a reload. So "has read" means "applied" for every projection.
// A process that cannot answer must not be trusted to have applied anything, so each holds a lease: every
// PING_INTERVAL_MS it records its heartbeat and notifies itself with the time, and its projections are used
// only while the last ping it received was sent less than LEASE_MS ago (`following()`). A ping received proves
// every announcement committed before it was sent has been read. So a writer that waits ACK_TIMEOUT_MS (longer
// than the lease) for a silent process knows that process has, by then, either applied the change or stopped
// trusting its projections: a lost LISTEN connection, a stalled event loop or a dead pool all end the lease.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Database } from './database.ts';
import type { ResourceStore } from './resource-store.ts';

export const CHANGE_CHANNEL = 'warden_resource_changed';
const BARRIER_CHANNEL = 'warden_live_barrier';
const ACK_CHANNEL = 'warden_live_ack';

/**
 * Well inside the lease, so that a process whose event loop is busy (a ping sent or read late) keeps it: a lapse
 * sends every request's Client, User and Session lookups to the store until the next ping arrives.
 */
const PING_INTERVAL_MS = 250;
const LEASE_MS = 1_500;
/** Longer than the lease: a process silent this long no longer trusts its projections. */
const ACK_TIMEOUT_MS = 2_000;
/** A process whose heartbeat is older than this cannot hold a lease (the ping and the heartbeat are one statement). */
const PROCESS_TTL_SECONDS = 3;

/** What a process keeps in memory of some resource types, kept current by the feed. */
export interface Projection {
  /** The resource types it is made of. */
  readonly types: ReadonlySet<string>;
  /** Whether a new resource changes it (a set of every policy does; a cache of what was read does not). */
  readonly followsCreation: boolean;
  /** Applies a change before returning: every later use must see it (drop the copy, or mark stale). */
  changed(type: string, id: string): void;
  /** Announcements may have been lost (listening (re)started): forget, or reload, everything. */
  reset(): void;
}

interface Barrier {
  waitingFor: Set<string>;
  done: () => void;
}

export class ChangeFeed {
  private readonly projections: Projection[] = [];
  private listening = false;
  private readonly processId = randomBytes(12).toString('hex');
  /** When (this process's performance.now()) the newest ping it has received was sent. */
  private leaseFrom = -Infinity;
  private beating: Promise<unknown> = Promise.resolve();
  private beatUnderWay = false;
  private barrierCount = 0;
  private readonly barriers = new Map<string, Barrier>();
  private heartbeat: NodeJS.Timeout | undefined;
  /** Followers of announcements that are not resources (see `follow`), by their type. */
  private readonly followers = new Map<string, { onAnnouncement: (id: string) => void; onReset: () => void }>();

  constructor(
    private readonly db: Database,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  /** Adds a projection; one registered after `start` begins empty (or stale), so it has missed nothing. */
  register(projection: Projection): void {
    this.projections.push(projection);
  }

  /**
   * Has announcements of `type` (not a resource type) delivered to `onAnnouncement` in every process, with the
   * same guarantee as a change of a projected resource: see `announce`. `onReset` is called whenever some may
   * have been missed (listening restarted); while `following()` is false none may be relied on either.
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
      await this.db.notify(CHANGE_CHANNEL, `${type}/${id}`);
    } catch {
      this.warn(`could not announce ${type} to the other server processes; waiting out their leases`);
      await new Promise((resolve) => setTimeout(resolve, ACK_TIMEOUT_MS));
      return;
    }
    await this.barrier(type);
  }

  /** Follows the changes other processes make, and those this process makes through `resources`. */
  async start(resources: ResourceStore): Promise<void> {
    resources.onWrite(async (type, id, created) => {
      const affected = this.projections.filter((p) => p.types.has(type) && (!created || p.followsCreation));
      if (affected.length === 0) return;
      for (const projection of affected) projection.changed(type, id);
      await this.barrier(type);
    });
    // Announcements sent while a connection was down are lost: every (re)start of listening resets everything.
    const relisten = () => {
      for (const projection of this.projections) projection.reset();
      for (const follower of this.followers.values()) follower.onReset();
    };
    // One connection carries every channel, so each process reads them all in commit order.
    await this.db.listen(
      CHANGE_CHANNEL,
      (payload) => {
        const slash = payload.indexOf('/');
        const type = payload.slice(0, slash);
        const id = payload.slice(slash + 1);
        for (const projection of this.projections) if (projection.types.has(type)) projection.changed(type, id);
        this.followers.get(type)?.onAnnouncement(id);
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

  /**
   * May projections be trusted now? Only while listening and, with other processes about, under a live lease.
   * A projection that cannot be trusted reads the store instead (GET /health/ready reports it).
   */
  following(): boolean {
    return this.listening && (this.db.engine !== 'postgres' || performance.now() - this.leaseFrom < LEASE_MS);
  }

  /**
   * Resolves once every other process has read every announcement committed before this call, or can no
   * longer be trusting what it read before (its lease has run out). Never throws: the write it follows is committed.
   */
  private async barrier(type: string): Promise<void> {
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
      if (!confirmed) this.warn(`${this.barriers.get(name)?.waitingFor.size} server process(es) did not confirm a ${type} change in ${ACK_TIMEOUT_MS} ms`);
    } catch {
      // Whoever did not hear of the change has lost its lease once this wait is over.
      this.warn(`could not confirm a ${type} change with the other server processes; waiting out their leases`);
      await new Promise((resolve) => setTimeout(resolve, ACK_TIMEOUT_MS));
    } finally {
      this.barriers.delete(name);
    }
  }

  /** Heartbeat and ping in one statement: a process whose heartbeat is stale cannot hold a lease. */
  private beat(): Promise<unknown> {
    if (this.beatUnderWay) return this.beating; // a slow one is not queued behind: the next tick sends a fresher ping
    this.beatUnderWay = true;
    this.beating = (this.db.heartbeat ?? this.db)
      .query(
        `with beat as (
           insert into warden_process (id, seen_at) values ($1, now()) on conflict (id) do update set seen_at = now()),
         gone as (delete from warden_process where seen_at < now() - interval '1 hour')
         select pg_notify($2, $3)`,
        [this.processId, this.pingChannel, String(performance.now())],
      )
      .catch(() => {})
      .finally(() => (this.beatUnderWay = false));
    return this.beating;
  }
}
