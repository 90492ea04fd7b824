// The current Clients, Users and Sessions, kept in memory: every authenticated request needs its Client (and a
// token's Session and User), and reading them from the store each time was most of a request's cost.
//
// A change takes effect at once in every process, because a write of one of them is not answered until every
// server process has dropped its copy:
//   1. the writing process drops its own copy as soon as the write commits (ResourceStore tells it);
//   2. the database announces the change to every process (migration 0008: each update or delete of these
//      types notifies warden_live_changed, whoever makes it, by hand in SQL too);
//   3. the writer then sends a barrier, which every process answers once it has read all announcements
//      before it (PostgreSQL delivers notifications in commit order), and waits for the answers of every
//      process registered in warden_process (a heartbeat table), or gives up after ACK_TIMEOUT_MS on a
//      process that is gone.
// While announcements cannot be trusted (before the first LISTEN, after a lost connection) nothing is cached.
import { randomUUID } from 'node:crypto';
import type { Database } from './database.ts';
import type { Resource, ResourceStore } from './resource-store.ts';

export const LIVE_CHANNEL = 'warden_live_changed';
const BARRIER_CHANNEL = 'warden_live_barrier';
const ACK_CHANNEL = 'warden_live_ack';
export const LIVE_TYPES = new Set(['Client', 'User', 'Session']);

const LIMIT = 20_000;
/** A bound on staleness should an announcement ever be lost without the connection dropping. */
const MAX_AGE_MS = 60_000;
const HEARTBEAT_MS = 5_000;
/** A process whose heartbeat is older than this is taken to be gone. */
const PROCESS_TTL_SECONDS = 15;
const ACK_TIMEOUT_MS = 2_000;

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
  private readonly processId = randomUUID();
  private barrierCount = 0;
  private readonly barriers = new Map<string, Barrier>();
  private heartbeat: NodeJS.Timeout | undefined;

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
    // One connection carries all three channels, so each process reads them in commit order.
    await this.db.listen(LIVE_CHANNEL, (payload) => {
      const slash = payload.indexOf('/');
      this.evict(payload.slice(0, slash), payload.slice(slash + 1));
    });
    await this.db.listen(BARRIER_CHANNEL, (payload) => {
      if (!payload.startsWith(this.processId)) void this.db.notify(ACK_CHANNEL, `${payload} ${this.processId}`).catch(() => {});
    });
    await this.db.listen(
      ACK_CHANNEL,
      (payload) => {
        const [barrier, from] = payload.split(' ');
        const waiting = this.barriers.get(barrier);
        if (waiting && waiting.waitingFor.delete(from) && waiting.waitingFor.size === 0) waiting.done();
      },
      () => {
        // Announcements sent while the connection was down are lost: forget everything.
        this.clear();
        this.listening = true;
      },
    );
    if (this.db.engine === 'postgres') {
      await this.beat();
      this.heartbeat = setInterval(() => void this.beat().catch(() => {}), HEARTBEAT_MS).unref();
    }
  }

  /** Leaves the other processes' barriers; called before the store closes. */
  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    if (this.db.engine === 'postgres') await this.db.query('delete from warden_process where id = $1', [this.processId]).catch(() => {});
  }

  /** The current, not deleted versions of the named resources; a missing one is absent from the result. */
  async read(wanted: { type: string; id: string }[]): Promise<Map<string, Resource>> {
    const found = new Map<string, Resource>();
    const missing: { type: string; id: string }[] = [];
    const now = Date.now();
    for (const { type, id } of wanted) {
      const entry = this.entries.get(keyOf(type, id));
      if (entry && now - entry.storedAt < MAX_AGE_MS) found.set(keyOf(type, id), entry.resource);
      else missing.push({ type, id });
    }
    if (missing.length === 0) return found;
    const generation = this.generation;
    const rows = await this.db.query<{ type: string; id: string; resource: string }>(
      `select type, id, resource::text as resource from resource
       where not deleted and (type, id) in (select * from jsonb_to_recordset($1::text::jsonb) as w(type text, id text))`,
      [JSON.stringify(missing)],
    );
    const keep = this.listening && generation === this.generation;
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

  /** Resolves once every other live process has read every announcement committed before this call. */
  private async barrier(): Promise<void> {
    if (this.db.engine !== 'postgres') return; // the embedded store has no other process
    const rows = await this.db.query<{ id: string }>(
      `select id from warden_process where id <> $1 and seen_at > now() - make_interval(secs => $2)`,
      [this.processId, PROCESS_TTL_SECONDS],
    );
    if (rows.length === 0) return;
    const name = `${this.processId}:${++this.barrierCount}`;
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<void>((resolve) => {
      this.barriers.set(name, { waitingFor: new Set(rows.map((row) => row.id)), done: resolve });
      timer = setTimeout(() => {
        const late = this.barriers.get(name)?.waitingFor.size ?? 0;
        this.warn(`${late} server process(es) did not confirm a Client/User/Session change within ${ACK_TIMEOUT_MS} ms`);
        resolve();
      }, ACK_TIMEOUT_MS);
    });
    try {
      await this.db.notify(BARRIER_CHANNEL, name);
      await answered;
    } finally {
      clearTimeout(timer);
      this.barriers.delete(name);
    }
  }

  private beat(): Promise<unknown> {
    return this.db.query(
      `insert into warden_process (id, seen_at) values ($1, now()) on conflict (id) do update set seen_at = now()`,
      [this.processId],
    );
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
  }
}
