// Resources as JSONB rows, each write a new version kept for history. Every write is conditional on the
// version the writer read, so concurrent writers never overwrite each other unseen.
import type { Resource, Version } from '../fhir/resource.ts';
import type { Database, Queryable } from './database.ts';

/** Re-exported: most modules meet these types through the store. */
export type { Resource, Version };

/** The version a write expected to replace was not the current one. */
export class VersionConflict extends Error {
  constructor(readonly type: string, readonly id: string) {
    super(`${type}/${id} was changed by another request`);
  }
}

export interface SearchQuery {
  ids?: string[];
  count: number;
  offset: number;
  sort: 'lastUpdated' | '-lastUpdated' | 'id';
  total: boolean;
  /** Conditions on the `resource` table, all of which a result meets (see src/search/query.ts). */
  filters?: SearchFilter[];
  /** An ORDER BY list on the `resource` table (src/search/sort.ts), ending with a unique key; replaces `sort`. */
  order?: SearchFilter;
}

/** A page of search results. */
export interface SearchResult {
  resources: Resource[];
  total?: number;
  /**
   * Each resource's stored JSON text, as read (`texts[i]` is `resources[i]`): a response that sends a resource
   * unchanged splices its text rather than serialising it again. Absent when the resources were not read as is.
   */
  texts?: string[];
}

/** An SQL condition on the `resource` table; `bind` adds a parameter and gives its placeholder (`$4`). */
export type SearchFilter = (bind: (value: unknown) => string) => string;

interface VersionRow {
  resource: string;
  version_id: string | number;
  last_updated: Date | string;
  deleted: boolean;
  [key: string]: unknown;
}

const versionColumns = 'resource::text as resource, version_id, last_updated, deleted';

function toVersion(row: VersionRow): Version {
  return {
    resource: JSON.parse(row.resource) as Resource,
    versionId: String(row.version_id),
    lastUpdated: new Date(row.last_updated).toISOString(),
    deleted: row.deleted,
  };
}

const ORDER: Record<SearchQuery['sort'], string> = {
  lastUpdated: 'last_updated asc, id asc',
  '-lastUpdated': 'last_updated desc, id desc',
  id: 'id asc',
};

/**
 * How many distinct search statements are prepared. A search's SQL text depends only on which parameters,
 * modifiers and how many comma values it has, never on the values themselves (they are bind parameters),
 * so the same few shapes recur; each connection keeps every statement it prepared, so the number of shapes
 * prepared is bounded, and a shape seen after that runs unprepared (two round trips instead of one).
 */
export const MAX_PREPARED_SEARCHES = 500;
const preparedSearches = new Set<string>();

function mayPrepare(text: string): boolean {
  if (preparedSearches.has(text)) return true;
  if (preparedSearches.size >= MAX_PREPARED_SEARCHES) return false;
  preparedSearches.add(text);
  return true;
}

/** PostgreSQL's SQLSTATE for a duplicate key. */
const UNIQUE_VIOLATION = '23505';

/** `created`: the write made a new resource (no expected version). */
export type WriteListener = (type: string, id: string, created: boolean) => void | Promise<void>;
/** A write inside a transaction whose listeners wait for the commit. */
type DeferredWrite = { type: string; id: string; created: boolean };

/**
 * Writes what is derived from a version (the search index, a User's login names) in the version's own
 * transaction: src/iam/resource-indexes.ts.
 */
export type IndexWriter = (tx: Queryable, resource: Resource, deleted: boolean) => Promise<void>;

/** Which versions a type- or system-level history lists (FHIR R4 §3.1.0.10.1). */
export interface HistoryQuery {
  /** Only versions written at or after this instant. */
  since?: string;
  /** Only the version of each resource that was current at this instant. */
  at?: string;
  count: number;
  offset: number;
}

/** A database handle bound to one open transaction: what it runs is part of that transaction. */
function boundTo(db: Database, tx: Queryable): Database {
  return {
    ...db,
    query: (text, params, options) => tx.query(text, params, options),
    exec: (script) => tx.exec(script),
    // Already inside one: the work joins it.
    transaction: (work) => work(tx),
  };
}

export class ResourceStore {
  private readonly writeListeners: WriteListener[] = [];

  /**
   * `index`: written with each version; the store is given it, so it needs no search or IAM code.
   * `deferred`: set on a store bound to an open transaction, where the listeners must wait for the commit.
   */
  constructor(
    readonly db: Database,
    private readonly index: IndexWriter,
    private readonly deferred?: DeferredWrite[],
  ) {}

  /**
   * Runs `work` with a store bound to one database transaction: everything it writes is committed together,
   * or nothing is. Write listeners are called once the transaction has committed.
   */
  async transaction<T>(work: (store: ResourceStore) => Promise<T>): Promise<T> {
    if (this.deferred) return work(this);
    const written: DeferredWrite[] = [];
    const result = await this.db.transaction((tx) => work(new ResourceStore(boundTo(this.db, tx), this.index, written)));
    for (const { type, id, created } of written) await Promise.all(this.writeListeners.map((listener) => listener(type, id, created)));
    return result;
  }

  /**
   * Inside `transaction`: waits until no other transaction holds `key`, and holds it until this one ends, so
   * two conditional writes on the same condition run one after the other (the second sees the first's write).
   */
  async lock(key: string): Promise<void> {
    await this.db.query('select pg_advisory_xact_lock(hashtext($1))', [key]);
  }

  /** Calls `listener` after each committed write (create, update or delete); the write waits for it. */
  onWrite(listener: WriteListener): void {
    this.writeListeners.push(listener);
  }

  /** The current version of a resource, deleted or not; null if it never existed. */
  async read(type: string, id: string): Promise<Version | null> {
    const [row] = await this.db.query<VersionRow>(
      `select ${versionColumns} from resource where type = $1 and id = $2`,
      [type, id],
    );
    return row ? toVersion(row) : null;
  }

  /**
   * The current version of a resource, deleted or not, with whether it meets `condition` (a confinement's
   * visibility), in one query; null if it never existed.
   */
  async readMatching(type: string, id: string, condition: SearchFilter): Promise<(Version & { matches: boolean }) | null> {
    const params: unknown[] = [type, id];
    const bind = (value: unknown) => `$${params.push(value)}`;
    const [row] = await this.db.query<VersionRow & { matches: boolean }>(
      `select ${versionColumns}, coalesce((${condition(bind)}), false) as matches from resource where type = $1 and id = $2`,
      params,
      { prepare: false },
    );
    return row ? { ...toVersion(row), matches: row.matches === true } : null;
  }

  // Versions are read from resource_versions: resource_history, and AuditEvents, which have none (migration 0170).
  async vread(type: string, id: string, versionId: string): Promise<Version | null> {
    if (!/^[0-9]{1,18}$/.test(versionId)) return null;
    const [row] = await this.db.query<VersionRow>(
      `select ${versionColumns} from resource_versions where type = $1 and id = $2 and version_id = $3`,
      [type, id, versionId],
    );
    return row ? toVersion(row) : null;
  }

  /** Versions newest first. */
  async history(type: string, id: string, count: number, offset: number): Promise<{ versions: Version[]; total: number }> {
    const rows = await this.db.query<VersionRow & { total: string | number }>(
      `select ${versionColumns}, count(*) over () as total from resource_versions
       where type = $1 and id = $2 order by version_id desc limit $3 offset $4`,
      [type, id, count, offset],
    );
    const total = rows.length > 0 ? Number(rows[0].total) : await this.countHistory(type, id);
    return { versions: rows.map(toVersion), total };
  }

  private async countHistory(type: string, id: string): Promise<number> {
    const [row] = await this.db.query<{ n: string | number }>(
      'select count(*) as n from resource_versions where type = $1 and id = $2',
      [type, id],
    );
    return Number(row.n);
  }

  /**
   * Versions of every resource of `type` (null: of every type), newest first: the type and system history.
   * Only versions written at or after `since`; with `at`, each resource's version current at that instant.
   */
  async historyOf(type: string | null, query: HistoryQuery): Promise<{ versions: Version[]; total: number }> {
    const params: unknown[] = [];
    const bind = (value: unknown) => `$${params.push(value)}`;
    const conditions: string[] = [];
    if (type !== null) conditions.push(`type = ${bind(type)}`);
    if (query.since !== undefined) conditions.push(`last_updated >= ${bind(query.since)}::timestamptz`);
    let from = 'resource_versions';
    if (query.at !== undefined) {
      from = `(select distinct on (type, id) * from resource_versions where last_updated <= ${bind(query.at)}::timestamptz
               order by type, id, version_id desc) as current_then`;
    }
    const where = conditions.length > 0 ? `where ${conditions.join(' and ')}` : '';
    const rows = await this.db.query<VersionRow & { total: string | number }>(
      `select ${versionColumns}, count(*) over () as total from ${from} ${where}
       order by last_updated desc, type, id, version_id desc limit ${bind(query.count)} offset ${bind(query.offset)}`,
      params,
      { prepare: false },
    );
    let total = rows.length > 0 ? Number(rows[0].total) : 0;
    if (rows.length === 0 && query.offset > 0) {
      const [counted] = await this.db.query<{ n: string | number }>(`select count(*) as n from ${from} ${where}`, params.slice(0, -2), { prepare: false });
      total = Number(counted.n);
    }
    return { versions: rows.map(toVersion), total };
  }

  /** The WHERE clause of a search, with its parameters (the type is $1). */
  private whereOf(type: string, query: SearchQuery): { where: string; params: unknown[] } {
    const params: unknown[] = [type];
    let where = 'type = $1 and not deleted';
    if (query.ids) {
      params.push(JSON.stringify(query.ids));
      where += ` and id in (select jsonb_array_elements_text($${params.length}::text::jsonb))`;
    }
    const bind = (value: unknown) => `$${params.push(value)}`;
    for (const filter of query.filters ?? []) where += ` and (${filter(bind)})`;
    return { where, params };
  }

  async search(type: string, query: SearchQuery): Promise<SearchResult> {
    const { where, params } = this.whereOf(type, query);
    const bind = (value: unknown) => `$${params.push(value)}`;
    // The count after an empty page has the conditions without the order's parameters.
    const whereParams = [...params];
    const order = query.order ? query.order(bind) : ORDER[query.sort];
    // The page's ids first, in order, with the total (a window count is taken before LIMIT); then the bodies of
    // those alone, so the matches beyond the page are never read as JSON. One statement, one round trip.
    const text = `select resource.resource::text as resource${query.total ? ', page.total' : ''}
       from (select id${query.total ? ', count(*) over () as total' : ''}, row_number() over (order by ${order}) as position
             from resource where ${where} order by ${order} limit $${params.length + 1} offset $${params.length + 2}) page
       join resource on resource.type = $1 and resource.id = page.id
       order by page.position`;
    const rows = await this.db.query<{ resource: string; total?: string | number }>(text, [...params, query.count, query.offset], {
      prepare: mayPrepare(text),
    });
    const texts = rows.map((row) => row.resource);
    const resources = texts.map((text) => JSON.parse(text) as Resource);
    if (!query.total) return { resources, texts };
    if (rows.length > 0) return { resources, texts, total: Number(rows[0].total) };
    // A page past the end (or _count=0) has no row to carry the total.
    const countText = `select count(*) as n from resource where ${where}`;
    const [counted] = await this.db.query<{ n: string | number }>(countText, whereParams, { prepare: mayPrepare(countText) });
    return { resources, texts, total: Number(counted.n) };
  }

  /**
   * A search's page (`id`, `text`: the stored JSON, one line) as SQL, for a statement that consumes it in the
   * database (Bulk Data output), so the page never travels to this process and back. Parameters from $1.
   */
  searchSql(type: string, query: SearchQuery): { sql: string; params: unknown[] } {
    const { where, params } = this.whereOf(type, query);
    const order = query.order ? query.order((value: unknown) => `$${params.push(value)}`) : ORDER[query.sort];
    return {
      sql: `select id, resource::text as text from resource where ${where}
            order by ${order} limit $${params.length + 1} offset $${params.length + 2}`,
      params: [...params, query.count, query.offset],
    };
  }

  /**
   * Creates several new resources (their first versions) in one statement, so one round trip: for writes made
   * in bulk, such as the Session of every token issued. Throws VersionConflict, writing nothing, if any of
   * them exists already. Not search-indexed: meant for the IAM types, which have no search parameters.
   */
  async createMany(resources: Resource[]): Promise<Version[]> {
    if (resources.length === 0) return [];
    const lastUpdated = new Date().toISOString();
    const stamped = resources.map((resource) => ({ ...resource, meta: { ...resource.meta, versionId: '1', lastUpdated } }));
    try {
      await this.db.query(
        `with created as (
           insert into resource (type, id, version_id, last_updated, deleted, resource)
           select r->>'resourceType', r->>'id', 1, $2::timestamptz, false, r from jsonb_array_elements($1::text::jsonb) r
           returning type, id, version_id, last_updated, deleted, resource)
         insert into resource_history (type, id, version_id, last_updated, deleted, resource) select * from created`,
        [JSON.stringify(stamped), lastUpdated],
      );
    } catch (error) {
      // A statement is atomic: on a duplicate key nothing of the batch was written.
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw new VersionConflict(stamped[0].resourceType, 'one of a batch');
      throw error;
    }
    return stamped.map((resource) => ({ resource, versionId: '1', lastUpdated, deleted: false }));
  }

  /**
   * Creates new resources (their first versions) with their search indexes, in one transaction and two
   * statements plus one per index: for a transaction Bundle's creates. Throws VersionConflict, writing nothing,
   * if any of them exists already.
   */
  async createIndexed(resources: Resource[]): Promise<Version[]> {
    return this.transaction(async (store) => {
      const versions = await store.createMany(resources);
      for (const version of versions) await store.index(store.db, version.resource, false);
      return versions;
    });
  }

  /**
   * Writes `resource` as the next version, if the current version is still `expectedVersionId`
   * (null: the resource must not exist yet). Throws VersionConflict otherwise; nothing is written then.
   * A `deleted` version keeps the last content, so history shows what was deleted.
   */
  async write(resource: Resource, expectedVersionId: string | null, deleted = false): Promise<Version> {
    const version = await this.db.transaction((tx) => this.writeVersion(tx, resource, expectedVersionId, deleted));
    const created = expectedVersionId === null;
    if (this.deferred) {
      this.deferred.push({ type: resource.resourceType, id: resource.id, created });
      return version;
    }
    await Promise.all(this.writeListeners.map((listener) => listener(resource.resourceType, resource.id, created)));
    return version;
  }

  private async writeVersion(tx: Queryable, body: Resource, expectedVersionId: string | null, deleted: boolean) {
    const versionId = expectedVersionId === null ? '1' : String(BigInt(expectedVersionId) + 1n);
    const lastUpdated = new Date().toISOString();
    const resource: Resource = { ...body, meta: { ...body.meta, versionId, lastUpdated } };
    const values = [resource.resourceType, resource.id, versionId, lastUpdated, deleted, JSON.stringify(resource)];
    const written =
      expectedVersionId === null
        ? await tx.query(
            `insert into resource (type, id, version_id, last_updated, deleted, resource)
             values ($1, $2, $3, $4, $5, $6::text::jsonb) on conflict (type, id) do nothing returning id`,
            values,
          )
        : await tx.query(
            `update resource set version_id = $3, last_updated = $4, deleted = $5, resource = $6::text::jsonb
             where type = $1 and id = $2 and version_id = $7 returning id`,
            [...values, expectedVersionId],
          );
    if (written.length === 0) throw new VersionConflict(resource.resourceType, resource.id);
    await tx.query(
      `insert into resource_history (type, id, version_id, last_updated, deleted, resource)
       values ($1, $2, $3, $4, $5, $6::text::jsonb)`,
      values,
    );
    await this.index(tx, resource, deleted);
    return { resource, versionId, lastUpdated, deleted };
  }
}
