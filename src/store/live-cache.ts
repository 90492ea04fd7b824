// The current Clients, Users and Sessions, kept in memory: every authenticated request needs its Client (and a
// token's Session and User), and reading them from the store each time was most of a request's cost.
//
// A change takes effect at once in every process: the cache is a projection of the change feed
// (src/store/change-feed.ts), so a write of one of them is not answered until every server process has dropped
// its copy, and a process whose feed cannot vouch for it (a lost lease) reads the store instead.
import type { Database } from './database.ts';
import type { Resource } from './resource-store.ts';
import type { ChangeFeed, Projection } from './change-feed.ts';
import { cacheLookups } from '../observe/metrics.ts';

export const LIVE_TYPES: ReadonlySet<string> = new Set(['Client', 'User', 'Session']);

const LIMIT = 20_000;
/** A bound on staleness should an announcement ever be lost without the connection dropping. */
const MAX_AGE_MS = 60_000;

interface Entry {
  resource: Resource;
  storedAt: number;
}

const keyOf = (type: string, id: string) => `${type}/${id}`;

export class LiveCache implements Projection {
  readonly types = LIVE_TYPES;
  /** Inserts are not announced: a resource is cached only once it exists. */
  readonly followsCreation = false;
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every eviction: a read that started before one may hold what it evicted, so is not kept. */
  private generation = 0;

  constructor(
    private readonly db: Database,
    private readonly feed: ChangeFeed,
  ) {
    feed.register(this);
  }

  /** May entries be served now? Only while the change feed vouches for this process. */
  private usable(): boolean {
    return this.feed.following();
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
    if (found.size > 0) cacheLookups.inc({ result: 'hit' }, found.size);
    if (missing.length > 0) cacheLookups.inc({ result: 'miss' }, missing.length);
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

  private remember(key: string, resource: Resource, now: number) {
    this.entries.delete(key);
    this.entries.set(key, { resource, storedAt: now });
    if (this.entries.size > LIMIT) this.entries.delete(this.entries.keys().next().value!);
  }

  changed(type: string, id: string) {
    if (!LIVE_TYPES.has(type)) return;
    this.generation++;
    this.entries.delete(keyOf(type, id));
  }

  reset() {
    this.generation++;
    this.entries.clear();
  }
}
