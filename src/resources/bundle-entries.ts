// POST / with a batch or transaction Bundle (FHIR R4 §3.1.0.11). Each entry is authorized by the one
// authorization step as if it were its own request (the request object names the Bundle and the entry), and is
// carried out through a store view confined by that entry's own access.
//   parse      the Bundle and each entry's request (bundle-parse.ts); too many entries: 413
//   identify   a transaction's POST entries get their ids, so `urn:uuid:` / `urn:oid:` fullUrls can be rewritten
//   authorize  every entry, and the searches its conditions make, before anything is written
//   carry out  DELETE, POST, PUT/PATCH, GET in that order; a transaction in ONE database transaction, holding
//              a lock on each condition, its conditional references and If-None-Exist resolved inside it
// A transaction answers the first failing entry's status and OperationOutcome, and nothing it did is kept; a
// batch answers every entry on its own, each in a transaction of its own.
import { newResourceId } from '../fhir/ids.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Access } from '../access/access.ts';
import { authorizeDescribed } from '../access/authorize.ts';
import { confinedResources, type ResourceView } from '../access/confined-resources.ts';
import type { BundleEntryOf } from '../access/request-object.ts';
import { sqlRunner } from '../access/sql-runner.ts';
import type { AppContext } from '../context.ts';
import { FhirError, conflict, preconditionFailed, type OperationOutcome } from '../fhir/outcome.ts';
import { sendResource } from '../http/reply-format.ts';
import { applyWriteRules } from '../iam/write-rules.ts';
import { VersionConflict, type Resource, type ResourceStore, type Version } from '../store/resource-store.ts';
import { validateWrite } from '../validation/validate.ts';
import { parseBundle, type BundleEntry, type ParsedBundle } from './bundle-parse.ts';
import { conditionalCreate, conditionalDelete, conditionalMatches, conditionalPatch, conditionalUpdate, conditionOf, lockKey } from './conditional.ts';
import { preferredReturn, successOutcome } from './crud.ts';
import { checkPatchableInTransaction, checkResourceBody } from './validate.ts';
import { createResource, deleteResource, existing, patchResource, updateResource, type WriteResult } from './writes.ts';
import { searchBundle } from './bundle.ts';

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

/** FHIR R4 §3.1.0.11.2: deletes first, then creates, then updates and patches, then reads. */
const PROCESSING_ORDER: Record<BundleEntry['method'], number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

/** A reference that names its target by a search: `Patient?identifier=http://x|123`. */
const CONDITIONAL_REFERENCE = /^([A-Z][A-Za-z]{0,63})\?(.+)$/;

/** One entry ready to be carried out: its access and, for a write, its body. */
interface PreparedEntry extends BundleEntry {
  access: Access;
  /** The access of the search its condition makes (If-None-Exist, `PUT Type?search`...). */
  conditionAccess?: Access;
  /** POST and PUT: the body, checked and with the write rules applied. */
  resource?: Resource;
  /** The access of the search each conditional reference in the body makes, by reference. */
  referenceAccess: Map<string, Access>;
}

interface EntryResponse {
  status: number;
  version?: Version;
  /** A GET's answer (a resource or a searchset), or an error's OperationOutcome. */
  body?: Resource | OperationOutcome | Record<string, unknown>;
}

/** An entry failed: the transaction answers with it. */
class EntryFailed extends Error {
  constructor(
    readonly entry: BundleEntry,
    readonly error: FhirError,
  ) {
    super(error.message);
  }
}

const failureOf = (entry: BundleEntry, error: FhirError) =>
  new FhirError(error.status, error.code, `Bundle.entry[${entry.index}] (${entry.method} ${entry.url.slice(0, 200)}): ${error.message}`, error.headers, [
    `Bundle.entry[${entry.index}]`,
  ]);

/** Replaces every reference (and any string equal to a fullUrl) found in `map`, at any depth. */
export function rewriteReferences<T>(value: T, map: ReadonlyMap<string, string>): T {
  if (map.size === 0) return value;
  const visit = (node: unknown): unknown => {
    if (typeof node === 'string') return map.get(node) ?? node;
    if (Array.isArray(node)) return node.map(visit);
    if (node === null || typeof node !== 'object') return node;
    const copy: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node)) {
      Object.defineProperty(copy, key, { value: visit(child), enumerable: true, writable: true, configurable: true });
    }
    return copy;
  };
  return visit(value) as T;
}

/** The conditional references (`Patient?identifier=...`) in the `reference` elements of `value`. */
function conditionalReferencesIn(value: unknown, found: Set<string>): Set<string> {
  const stack = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    for (const [key, child] of Object.entries(node)) {
      if (key === 'reference' && typeof child === 'string' && CONDITIONAL_REFERENCE.test(child)) found.add(child);
      else stack.push(child);
    }
  }
  return found;
}

/** A urn:uuid or urn:oid in a search URL (`Observation?subject=urn:uuid:...`) is rewritten too. */
function rewriteUrl(url: string, map: ReadonlyMap<string, string>): string {
  const at = url.indexOf('?');
  if (at < 0 || map.size === 0) return url;
  const params = new URLSearchParams(url.slice(at + 1));
  const rewritten = new URLSearchParams();
  for (const [name, value] of params) rewritten.append(name, map.get(value) ?? value);
  return `${url.slice(0, at + 1)}${rewritten}`;
}

export function bundleHandler(ctx: AppContext) {
  const runner = sqlRunner(ctx.db);
  const { baseUrl } = ctx.config;

  /** Authorizes `method url` for the caller as if it came alone, naming the Bundle entry it comes from. */
  function authorizeAs(request: FastifyRequest, entry: BundleEntry, bundle: ParsedBundle, method: string, url: string, body?: unknown) {
    const of: BundleEntryOf = { type: bundle.type, entry: entry.index, ...(entry.fullUrl !== undefined && { fullUrl: entry.fullUrl }) };
    return authorizeDescribed(ctx, runner, request.identity, {
      method,
      url: `/${url}`,
      scheme: request.protocol,
      headers: { ...request.headers, ...entry.headers },
      ...(body !== undefined && { body }),
      remoteAddr: request.ip,
      bundle: of,
    });
  }

  /** Authorizes one entry (and the search its condition makes) and prepares its body; nothing is written. */
  async function prepare(request: FastifyRequest, bundle: ParsedBundle, entry: BundleEntry): Promise<PreparedEntry> {
    const access = await authorizeAs(request, entry, bundle, entry.method, entry.url, entry.body);
    const byCondition = entry.id === undefined && (entry.method === 'PUT' || entry.method === 'PATCH' || entry.method === 'DELETE');
    const condition = entry.ifNoneExist ?? (byCondition ? entry.query : undefined);
    const conditionAccess = condition === undefined ? undefined : await authorizeAs(request, entry, bundle, 'GET', `${entry.type}?${conditionOf(entry.type, condition)}`);
    if (entry.method === 'PATCH' && bundle.type === 'transaction') checkPatchableInTransaction(entry.type);
    let resource: Resource | undefined;
    if (entry.method === 'POST' || entry.method === 'PUT') {
      const checked = checkResourceBody(entry.body, entry.type, entry.id);
      // A transaction's POST takes the id assigned to its fullUrl; a batch's, a new one (FHIR ignores the body's).
      resource = await applyWriteRules({ ...checked, id: entry.assignedId ?? (entry.method === 'POST' ? newResourceId() : checked.id) }, ctx.db, ctx.config);
    }
    // Authorized here, outside the database transaction: a policy's SQL runs in a transaction of its own.
    const referenceAccess = new Map<string, Access>();
    if (resource) {
      for (const reference of conditionalReferencesIn(resource, new Set())) {
        referenceAccess.set(reference, await authorizeAs(request, entry, bundle, 'GET', reference));
      }
    }
    return { ...entry, access, ...(conditionAccess && { conditionAccess }), ...(resource && { resource }), referenceAccess };
  }

  const viewOf = (store: ResourceStore, access: Access | undefined) => confinedResources(store, access?.confinement ?? null, baseUrl);

  /** Carries out one prepared entry on `store` (bound to a transaction). */
  async function carryOut(store: ResourceStore, entry: PreparedEntry): Promise<EntryResponse> {
    const view = viewOf(store, entry.access);
    const views = { write: view, search: viewOf(store, entry.conditionAccess) };
    const { type, id } = entry;
    switch (entry.method) {
      case 'POST':
        return entry.ifNoneExist !== undefined ? conditionalCreate(ctx, views, entry.resource!, entry.ifNoneExist) : createResource(ctx, view, entry.resource!);
      case 'PUT':
        if (id === undefined) return conditionalUpdate(ctx, views, entry.resource!, entry.bodyId, entry.query);
        return updateResource(ctx, view, entry.resource!, entry.ifMatch);
      case 'PATCH':
        if (id === undefined) return conditionalPatch(ctx, views, type, entry.query, entry.patch, entry.patchType);
        return patchResource(ctx, view, type, id, entry.patch, entry.patchType, entry.ifMatch, undefined);
      case 'DELETE':
        if (id === undefined) return conditionalDelete(ctx, views, type, entry.query);
        return deleteResource(ctx, view, type, id, entry.ifMatch);
      case 'GET':
      case 'HEAD':
        return read(view, entry);
    }
  }

  /** A GET entry: a read, a vread, or a search of one page. */
  async function read(view: ResourceView, entry: PreparedEntry): Promise<EntryResponse> {
    const { type, id, versionId } = entry;
    if (id !== undefined && versionId !== undefined) {
      const version = await view.vread(type, id, versionId);
      if (!version || version.deleted) throw new FhirError(404, 'not-found', `${type}/${id} has no version "${versionId.slice(0, 40)}"`);
      return { status: 200, version, body: version.resource };
    }
    if (id !== undefined) {
      const version = existing(await view.read(type, id), type, id);
      return { status: 200, version, body: version.resource };
    }
    const count = entry.count;
    const query = new URLSearchParams(entry.query);
    query.delete('_count');
    const resources = await conditionalMatches(ctx, view, type, String(query), count + 1);
    const bundle = searchBundle(baseUrl, resources.slice(0, count), {
      baseUrl: `${baseUrl}/${type}`,
      params: query,
      page: 1,
      count,
      hasNext: resources.length > count,
    });
    return { status: 200, body: bundle };
  }

  /**
   * A transaction's references, final: If-None-Exist resolved (the fullUrl names the existing resource) and
   * conditional references resolved to their one match, under the transaction's locks.
   */
  async function resolveReferences(store: ResourceStore, entries: PreparedEntry[]) {
    const map = new Map<string, string>();
    for (const entry of entries) {
      if (entry.method !== 'POST' || entry.ifNoneExist === undefined || !entry.resource) continue;
      const query = conditionOf(entry.type, entry.ifNoneExist);
      await store.lock(lockKey(entry.type, query));
      const found = await conditionalMatches(ctx, viewOf(store, entry.conditionAccess), entry.type, query, 2);
      if (found.length === 1) map.set(`${entry.type}/${entry.resource.id}`, `${entry.type}/${found[0].id}`);
    }
    for (const entry of entries) {
      for (const [reference, access] of entry.referenceAccess) {
        if (map.has(reference)) continue;
        const [, type, query] = CONDITIONAL_REFERENCE.exec(reference)!;
        const found = await conditionalMatches(ctx, viewOf(store, access), type, query, 2);
        if (found.length !== 1) {
          const what = found.length === 0 ? 'matches no resource' : 'matches more than one resource';
          throw new EntryFailed(entry, preconditionFailed(`The conditional reference ${reference.slice(0, 200)} ${what}`));
        }
        map.set(reference, `${type}/${found[0].id}`);
      }
    }
    return map;
  }

  /** Creates the entries' resources in one go, each validated as a single write is; answers 201 for each. */
  async function createTogether(store: ResourceStore, entries: PreparedEntry[], resolved: Map<string, string>, answers: EntryResponse[]) {
    const resources: Resource[] = [];
    for (const entry of entries) {
      const resource = rewriteReferences(entry.resource!, resolved);
      try {
        await validateWrite(ctx, resource);
      } catch (error) {
        if (error instanceof FhirError) throw new EntryFailed(entry, error);
        throw error;
      }
      resources.push(resource);
    }
    let versions: Version[];
    try {
      versions = await viewOf(store, undefined).createAll(resources);
    } catch (error) {
      if (error instanceof VersionConflict) throw new EntryFailed(entries[0], conflict('One of the resources this transaction creates exists already; nothing was written'));
      throw error;
    }
    entries.forEach((entry, i) => (answers[entry.index] = { status: 201, version: versions[i] }));
  }

  async function transaction(request: FastifyRequest, bundle: ParsedBundle): Promise<EntryResponse[]> {
    // Authorize and prepare every entry before anything is written: a denied entry writes nothing.
    const prepared: PreparedEntry[] = [];
    for (const entry of bundle.entries) {
      try {
        prepared.push(await prepare(request, bundle, entry));
      } catch (error) {
        if (error instanceof FhirError) throw new EntryFailed(entry, error);
        throw error;
      }
    }
    const responses = await ctx.resources.transaction(async (store) => {
      const resolved = await resolveReferences(store, prepared);
      const ordered = [...prepared].sort((a, b) => PROCESSING_ORDER[a.method] - PROCESSING_ORDER[b.method] || a.index - b.index);
      const answers: EntryResponse[] = [];
      // Plain creates nothing confines are written together, in a few statements instead of four each.
      const together = new Set(ordered.filter((entry) => entry.method === 'POST' && entry.ifNoneExist === undefined && entry.access.confinement === null));
      let created = false;
      for (const entry of ordered) {
        if (together.has(entry)) {
          if (!created) await createTogether(store, [...together], resolved, answers);
          created = true;
          continue;
        }
        const final = entry.resource ? { ...entry, resource: rewriteReferences(entry.resource, resolved) } : entry;
        try {
          answers[entry.index] = await carryOut(store, final);
        } catch (error) {
          if (error instanceof FhirError) throw new EntryFailed(entry, error);
          throw error;
        }
      }
      return answers;
    });
    return responses;
  }

  async function batch(request: FastifyRequest, bundle: ParsedBundle): Promise<EntryResponse[]> {
    const answers: EntryResponse[] = [];
    for (const entry of [...bundle.entries].sort((a, b) => PROCESSING_ORDER[a.method] - PROCESSING_ORDER[b.method] || a.index - b.index)) {
      try {
        if (entry.error) throw entry.error;
        const prepared = await prepare(request, bundle, entry);
        answers[entry.index] = await ctx.resources.transaction(async (store) => {
          // Conditional references are resolved in a batch too, each entry on its own.
          const resolved = await resolveReferences(store, [prepared]);
          return carryOut(store, prepared.resource ? { ...prepared, resource: rewriteReferences(prepared.resource, resolved) } : prepared);
        });
      } catch (caught) {
        const error = caught instanceof EntryFailed ? caught.error : caught;
        if (!(error instanceof FhirError)) throw error;
        answers[entry.index] = { status: error.status, body: error.outcome };
      }
    }
    return answers;
  }

  function responseEntry(answer: EntryResponse, preferred: ReturnType<typeof preferredReturn>) {
    const { status, version, body } = answer;
    const response: Record<string, unknown> = { status: `${status} ${STATUS_TEXT[status] ?? ''}`.trim() };
    if (version) {
      const { resourceType, id } = version.resource;
      if (status === 201) response.location = `${resourceType}/${id}/_history/${version.versionId}`;
      response.etag = `W/"${version.versionId}"`;
      response.lastModified = version.lastUpdated;
    }
    if (status >= 400) return { response: { ...response, outcome: body } };
    if (body !== undefined) return { resource: body, response };
    if (preferred === 'OperationOutcome') return { response: { ...response, outcome: successOutcome(status, version) } };
    if (preferred === 'representation' && version && !version.deleted) return { resource: version.resource, response };
    return { response };
  }

  return async function handleBundle(request: FastifyRequest, reply: FastifyReply) {
    const bundle = parseBundle(request.body, baseUrl, ctx.config.bundle.maxEntries, request.headers['content-type']);
    if (bundle.type === 'transaction') {
      // Every fullUrl of an entry that creates gets the id it will have: references to it are rewritten.
      const map = new Map<string, string>();
      for (const entry of bundle.entries) {
        if (entry.error) throw failureOf(entry, entry.error);
        if (entry.fullUrl === undefined || !/^urn:(uuid|oid):/.test(entry.fullUrl)) continue;
        if (entry.method === 'POST') entry.assignedId = newResourceId();
        const id = entry.assignedId ?? entry.id;
        if (id !== undefined) map.set(entry.fullUrl, `${entry.type}/${id}`);
      }
      for (const entry of bundle.entries) {
        entry.body = rewriteReferences(entry.body, map);
        entry.url = rewriteUrl(entry.url, map);
        entry.query = rewriteUrl(`?${entry.query}`, map).slice(1);
        if (entry.ifNoneExist !== undefined) entry.ifNoneExist = rewriteUrl(`?${entry.ifNoneExist}`, map).slice(1);
      }
    }
    let answers: EntryResponse[];
    try {
      answers = bundle.type === 'transaction' ? await transaction(request, bundle) : await batch(request, bundle);
    } catch (error) {
      if (error instanceof EntryFailed) throw failureOf(error.entry, error.error);
      throw error;
    }
    if (bundle.entries.some((entry) => entry.type === 'AccessPolicy' || entry.type === 'Role')) await ctx.policies.refresh();
    const preferred = preferredReturn(request.headers.prefer);
    return sendResource(request, reply, 200, {
      resourceType: 'Bundle',
      type: `${bundle.type}-response`,
      entry: answers.map((answer) => responseEntry(answer, preferred)),
    });
  };
}
