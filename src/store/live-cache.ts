// The current Clients, Users and Sessions, kept in memory: every authenticated request needs its Client (and a
// token's Session and User), and reading them from the store each time was most of a request's cost.
// An entry is dropped the moment its resource changes: at once in the process that wrote it (ResourceStore
// tells the cache before the write is answered), and in every other process when the database announces
// the change (migration 0008 makes each update or delete of these types notify the channel). While the
// announcements cannot be trusted (before the first LISTEN, after a lost connection) nothing is cached.
import type { Database } from './database.ts';
import type { Resource, ResourceStore } from './resource-store.ts';

export const LIVE_CHANNEL = 'warden_live_changed';
export const LIVE_TYPES = new Set(['Client', 'User', 'Session']);

const LIMIT = 20_000;
/** A bound on staleness should an announcement ever be lost without the connection dropping. */
const MAX_AGE_MS = 60_000;

interface Entry {
  resource: Resource;
  storedAt: number;
}

const keyOf = (type: string, id: string) => `${type}/${id}`;

export class LiveCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every eviction: a read that started before one may hold what it evicted, so is not kept. */
  private generation = 0;
  private listening = false;

  constructor(private readonly db: Database) {}

  /** Follows the changes other processes make, and those this process makes through `resources`. */
  async start(resources: ResourceStore): Promise<void> {
    resources.onWrite((type, id) => this.evict(type, id));
    await this.db.listen(
      LIVE_CHANNEL,
      (payload) => {
        const slash = payload.indexOf('/');
        this.evict(payload.slice(0, slash), payload.slice(slash + 1));
      },
      () => {
        // Announcements sent while the connection was down are lost: forget everything.
        this.clear();
        this.listening = true;
      },
    );
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
