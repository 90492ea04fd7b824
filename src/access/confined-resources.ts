// The store as one caller may see it: every read, search, history and write a handler, page or operation makes
// for a caller goes through this view, which applies the caller's confinement (as Medplum's per-request
// Repository does). Nothing reads the raw store for a caller, so no entry point can read past it.
//   visibility  SMART App Launch 2.x: a patient/ token sees its patient's compartment, narrowed by the scope's
//               query; applied inside each query (one query for a read)
//   mayRead     a per-resource decision (the user's own policies, for the SMART pickers)
// A resource outside the confinement is answered as if it did not exist (404), so its existence is not revealed.
import { FhirError, insufficientScope, notAllowed, notFound } from '../fhir/outcome.ts';
import { visibilitySearchFilter, visibleUnder } from '../smart/compartment.ts';
import type { VisibilityFilter } from '../smart/enforce.ts';
import type { HistoryQuery, Resource, ResourceStore, SearchFilter, SearchQuery, SearchResult, Version } from '../store/resource-store.ts';
import { auditedResources } from './audited-resources.ts';

/** null: every resource of the type; otherwise a resource must meet one of the filters ([]: none is visible). */
export type Visibility = readonly VisibilityFilter[] | null;

export interface Confinement {
  /**
   * A resource is visible when it meets one of these (patient compartment and scope narrowing): the same for
   * every type (a FHIR interaction on one type), or by type (an entry point that may read any type).
   */
  readonly visibility?: Visibility | ((type: string) => Visibility);
  /** A resource is visible when this allows it. */
  readonly mayRead?: (type: string, id: string) => Promise<boolean>;
}

/** How many stored resources a search under `mayRead` looks through, at most. */
const SCAN_LIMIT = 1000;
/** Enough versions for any resource's history, filtered version by version under a confinement. */
const HISTORY_LIMIT = 10_000;

export interface ResourceView {
  /** The current version, deleted or not; null when it never existed. Throws 404 when it exists out of sight. */
  read(type: string, id: string): Promise<Version | null>;
  /** The current version, deleted or not; null when it never existed or is out of sight (for pages and forms). */
  find(type: string, id: string): Promise<Version | null>;
  /** One version; null when there is no such version or it is out of sight. */
  vread(type: string, id: string, versionId: string): Promise<Version | null>;
  /** Versions newest first, only those in sight. */
  history(type: string, id: string, count: number, offset: number): Promise<{ versions: Version[]; total: number }>;
  /** Versions of every resource of `type` (null: every type) newest first, only those in sight. */
  historyOf(type: string | null, query: HistoryQuery): Promise<{ versions: Version[]; total: number }>;
  /** Inside a transaction: holds `key` until it ends (conditional writes on the same condition, one at a time). */
  lock(key: string): Promise<void>;
  search(type: string, query: SearchQuery): Promise<SearchResult>;
  /** Creates new resources together (none may exist yet); refuses (403 insufficient_scope) any out of sight. */
  createAll(resources: Resource[]): Promise<Version[]>;
  /**
   * The caller's visibility of `type` as an SQL condition on `resource` (null: all of it), for a search that
   * looks into resources of `type` without returning them (chains, `_has`). A per-resource decision cannot be
   * written into SQL: then nothing is visible.
   */
  visibilityCondition(type: string): SearchFilter | null;
  /**
   * A search's page as SQL (`id`, `text`: the stored JSON, one line), confined, for a statement that consumes it
   * in the database (Bulk Data output); null when a per-resource decision applies, which SQL cannot hold.
   */
  searchSql(type: string, query: SearchQuery): { sql: string; params: unknown[] } | null;
  /** Writes the next version; refuses (403 insufficient_scope) one that would be out of sight. */
  write(resource: Resource, expectedVersionId: string | null, deleted?: boolean): Promise<Version>;
}

/** The audit trail is written by the server alone, and never changed: not by anyone, root included. */
export function checkNotAuditEvent(resource: Resource): void {
  if (resource.resourceType === 'AuditEvent') throw auditEventsAreImmutable();
}

export const auditEventsAreImmutable = () =>
  notAllowed('AuditEvents are recorded by the server and cannot be created, changed or deleted through the API');

const hidden = (type: string, id: string) => notFound(`${type}/${id} not found`);

/** Views of whole stores, made once each: most requests are not confined, and making a view is ~20 closures. */
const unconfinedViews = new WeakMap<ResourceStore, Map<string, ResourceView>>();

function unconfinedView(store: ResourceStore, baseUrl: string): ResourceView {
  let byBaseUrl = unconfinedViews.get(store);
  if (!byBaseUrl) unconfinedViews.set(store, (byBaseUrl = new Map()));
  let view = byBaseUrl.get(baseUrl);
  // Frozen: requests share it.
  if (!view) byBaseUrl.set(baseUrl, (view = Object.freeze(confinedView(store, null, baseUrl))));
  return view;
}

/** The view of the store under `confinement`; null: the whole store (the root client, or nothing confines). */
export function confinedResources(store: ResourceStore, confinement: Confinement | null, baseUrl: string): ResourceView {
  const view = confinement === null ? unconfinedView(store, baseUrl) : confinedView(store, confinement, baseUrl);
  return auditedResources(view, baseUrl);
}

function confinedView(store: ResourceStore, confinement: Confinement | null, baseUrl: string): ResourceView {
  const mayRead = confinement?.mayRead;
  const rule = confinement?.visibility;
  const visibilityOf = (type: string): Visibility => (typeof rule === 'function' ? rule(type) : (rule ?? null));
  const bodyVisible = (resource: Resource) => visibleUnder(resource, visibilityOf(resource.resourceType), baseUrl);
  const allowed = async (type: string, id: string) => mayRead === undefined || (await mayRead(type, id));
  const checkWritable = (resource: Resource) => {
    if (!bodyVisible(resource)) {
      throw insufficientScope(`The token's scopes do not allow writing this ${resource.resourceType} outside its patient's compartment or scope`);
    }
  };
  const visibleFilters = (type: string, filters: SearchQuery['filters']) => {
    const visibility = visibilityOf(type);
    return visibility === null ? filters : [...(filters ?? []), visibilitySearchFilter(type, visibility, baseUrl)];
  };

  const view: ResourceView = {
    async find(type, id) {
      try {
        return await view.read(type, id);
      } catch (error) {
        if (error instanceof FhirError && error.status === 404) return null;
        throw error;
      }
    },

    async read(type, id) {
      const visibility = visibilityOf(type);
      if (visibility === null) {
        const version = await store.read(type, id);
        if (version && !(await allowed(type, id))) throw hidden(type, id);
        return version;
      }
      const found = await store.readMatching(type, id, visibilitySearchFilter(type, visibility, baseUrl));
      if (!found) return null;
      const { matches, ...version } = found;
      // A deletion keeps the last body but not its search index: the body says whose it was.
      const visible = version.deleted ? bodyVisible(version.resource) : matches;
      if (!visible || !(await allowed(type, id))) throw hidden(type, id);
      return version;
    },

    async vread(type, id, versionId) {
      const version = await store.vread(type, id, versionId);
      // Each version by its own body: an older one may have been another patient's before the resource moved.
      if (!version || !bodyVisible(version.resource) || !(await allowed(type, id))) return null;
      return version;
    },

    async history(type, id, count, offset) {
      if (visibilityOf(type) === null && mayRead === undefined) return store.history(type, id, count, offset);
      if (!(await allowed(type, id))) return { versions: [], total: 0 };
      const { versions } = await store.history(type, id, HISTORY_LIMIT, 0);
      const visible = versions.filter((version) => bodyVisible(version.resource));
      return { versions: visible.slice(offset, offset + count), total: visible.length };
    },

    async historyOf(type, query) {
      const unconfined = mayRead === undefined && (type === null ? rule === undefined || rule === null : visibilityOf(type) === null);
      if (unconfined) return store.historyOf(type, query);
      // Each version by its own body, as for one resource's history, within a bounded scan.
      const { versions } = await store.historyOf(type, { ...query, count: HISTORY_LIMIT, offset: 0 });
      const visible: Version[] = [];
      for (const version of versions) {
        const { resourceType, id } = version.resource;
        if (bodyVisible(version.resource) && (await allowed(resourceType, id))) visible.push(version);
      }
      return { versions: visible.slice(query.offset, query.offset + query.count), total: visible.length };
    },

    lock: (key) => store.lock(key),

    searchSql(type, query) {
      return mayRead === undefined ? store.searchSql(type, { ...query, filters: visibleFilters(type, query.filters) }) : null;
    },

    async search(type, query) {
      const filters = visibleFilters(type, query.filters);
      if (mayRead === undefined) return store.search(type, { ...query, filters });
      // A per-resource decision cannot be written into SQL: look through the matches, keep the allowed. With a
      // total, one beyond the page is kept too: the total then tells that a next page exists.
      const found: Resource[] = [];
      const page = Math.max(query.count, 50);
      const wanted = query.offset + query.count + (query.total ? 1 : 0);
      for (let scanned = 0; scanned < SCAN_LIMIT && found.length < wanted; scanned += page) {
        const { resources } = await store.search(type, { ...query, filters, offset: scanned, count: page, total: false });
        for (const resource of resources) if (await mayRead(type, resource.id)) found.push(resource);
        if (resources.length < page) break;
      }
      const resources = found.slice(query.offset, query.offset + query.count);
      return query.total ? { resources, total: found.length } : { resources };
    },

    async createAll(resources) {
      for (const resource of resources) {
        checkNotAuditEvent(resource);
        checkWritable(resource);
      }
      return store.createIndexed(resources);
    },

    visibilityCondition(type) {
      if (mayRead !== undefined) return () => 'false';
      const visibility = visibilityOf(type);
      return visibility === null ? null : visibilitySearchFilter(type, visibility, baseUrl);
    },

    async write(resource, expectedVersionId, deleted = false) {
      checkNotAuditEvent(resource);
      if (!deleted) checkWritable(resource);
      return store.write(resource, expectedVersionId, deleted);
    },
  };
  return view;
}
