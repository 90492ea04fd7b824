// Conditional interactions (FHIR R4 §3.1.0.8.1 create, §3.1.0.4.3 update, §3.1.0.6.1 patch, §3.1.0.7.1 delete):
// the resource is named by a search instead of an id. The search is made for the caller, so it is authorized
// as a search of its own (the caller must be allowed to find what it names), and the search and the write run
// in one transaction holding a lock on the condition: two requests on the same condition run one after the
// other, and the second sees what the first wrote (two conditional creates make one resource).
import type { FastifyRequest } from 'fastify';
import type { Access } from '../access/access.ts';
import { authorizeDescribed } from '../access/authorize.ts';
import { confinedResources, type ResourceView } from '../access/confined-resources.ts';
import { sqlRunner } from '../access/sql-runner.ts';
import type { AppContext } from '../context.ts';
import { badRequest, notFound, preconditionFailed } from '../fhir/outcome.ts';
import { searchFilters } from '../search/query.ts';
import type { Resource, ResourceStore } from '../store/resource-store.ts';
import { checkId, checkPatchableInTransaction, checkType } from './validate.ts';
import { createResource, deleteResource, patchResource, updateResource, type WriteResult } from './writes.ts';

/** Most resources one conditional delete removes (CapabilityStatement conditionalDelete: multiple). */
export const MAX_CONDITIONAL_DELETES = 100;

/** The search of a condition: `identifier=x|y`, `?identifier=...` or `Patient?identifier=...`. */
export function conditionOf(type: string, condition: string): string {
  const query = condition.startsWith(`${type}?`) ? condition.slice(type.length + 1) : condition.replace(/^\?/, '');
  if (query.trim() === '') throw badRequest(`A conditional interaction on ${type} needs search parameters`, 'required');
  return query;
}

/** The resources of `type` that the search `query` matches, at most `limit`. */
export async function conditionalMatches(ctx: AppContext, view: ResourceView, type: string, query: string, limit: number): Promise<Resource[]> {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(query)) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  const filters = searchFilters(type, [...grouped], ctx.config.baseUrl, []);
  const { resources } = await view.search(type, { filters, count: limit, offset: 0, sort: 'id', total: false });
  return resources;
}

/** The lock two writes on the same condition share: the parameters in a stable order. */
export function lockKey(type: string, query: string): string {
  const params = [...new URLSearchParams(query)].sort(([a, x], [b, y]) => (a === b ? x.localeCompare(y) : a.localeCompare(b)));
  return `conditional ${type}?${new URLSearchParams(params)}`;
}

/** The views a conditional write runs with: one to write as the caller, one to search as the caller. */
export interface ConditionalViews {
  write: ResourceView;
  search: ResourceView;
}

function many(type: string, query: string, what: string): never {
  throw preconditionFailed(`The search ${type}?${query.slice(0, 200)} matches more than one resource: ${what}`);
}

/** If-None-Exist: creates `resource` unless the search finds one (200, nothing written); 412 when it finds several. */
export async function conditionalCreate(ctx: AppContext, views: ConditionalViews, resource: Resource, condition: string): Promise<WriteResult> {
  const type = resource.resourceType;
  const query = conditionOf(type, condition);
  await views.write.lock(lockKey(type, query));
  const found = await conditionalMatches(ctx, views.search, type, query, 2);
  if (found.length > 1) many(type, query, 'If-None-Exist must name at most one');
  if (found.length === 1) {
    const version = await views.search.read(type, found[0].id);
    return { status: 200, ...(version && { version }) };
  }
  return createResource(ctx, views.write, resource);
}

/**
 * PUT /{type}?search: updates the one match, or creates `resource` when none matches (with the id its body
 * gave, or a new one); 412 when several match, 400 when the body's id is not the match's.
 */
export async function conditionalUpdate(
  ctx: AppContext,
  views: ConditionalViews,
  resource: Resource,
  bodyId: string | undefined,
  condition: string,
): Promise<WriteResult> {
  const type = resource.resourceType;
  const query = conditionOf(type, condition);
  await views.write.lock(lockKey(type, query));
  const found = await conditionalMatches(ctx, views.search, type, query, 2);
  if (found.length > 1) many(type, query, 'a conditional update must name one');
  if (found.length === 1 && bodyId !== undefined && bodyId !== found[0].id) {
    throw badRequest(`The body's id "${bodyId.slice(0, 64)}" is not that of the resource the search matches (${type}/${found[0].id})`, 'invalid', ['id']);
  }
  const id = found.length === 1 ? found[0].id : resource.id;
  return updateResource(ctx, views.write, { ...resource, id: checkId(id) }, undefined);
}

/** PATCH /{type}?search: patches the one match; 404 when none matches, 412 when several do. */
export async function conditionalPatch(
  ctx: AppContext,
  views: ConditionalViews,
  type: string,
  condition: string,
  patch: unknown,
  contentType: string,
): Promise<WriteResult> {
  checkPatchableInTransaction(type);
  const query = conditionOf(type, condition);
  await views.write.lock(lockKey(type, query));
  const found = await conditionalMatches(ctx, views.search, type, query, 2);
  if (found.length === 0) throw notFound(`No ${type} matches ${query.slice(0, 200)}`);
  if (found.length > 1) many(type, query, 'a conditional patch must name one');
  return patchResource(ctx, views.write, type, found[0].id, patch, contentType, undefined, undefined);
}

/**
 * DELETE /{type}?search: deletes every match, up to MAX_CONDITIONAL_DELETES (412 beyond); none is 204.
 * One match answers as its delete does.
 */
export async function conditionalDelete(ctx: AppContext, views: ConditionalViews, type: string, condition: string): Promise<WriteResult> {
  const query = conditionOf(type, condition);
  await views.write.lock(lockKey(type, query));
  const found = await conditionalMatches(ctx, views.search, type, query, MAX_CONDITIONAL_DELETES + 1);
  if (found.length > MAX_CONDITIONAL_DELETES) {
    throw preconditionFailed(`The search ${type}?${query.slice(0, 200)} matches more than ${MAX_CONDITIONAL_DELETES} resources; delete fewer at once`);
  }
  const results: WriteResult[] = [];
  for (const match of found) results.push(await deleteResource(ctx, views.write, type, match.id, undefined));
  return results.length === 1 ? results[0] : { status: 204 };
}

/** The search a conditional write makes, authorized for the caller as a request of its own. */
export function authorizeConditionSearch(ctx: AppContext, request: FastifyRequest, type: string, query: string, runner = sqlRunner(ctx.db)): Promise<Access> {
  return authorizeDescribed(ctx, runner, request.identity, {
    method: 'GET',
    url: `/${type}?${query}`,
    scheme: request.protocol,
    headers: request.headers,
    remoteAddr: request.ip,
  });
}

/** The conditional interactions as the REST handlers (crud.ts) call them, each in its own transaction. */
export function conditionalHandlers(ctx: AppContext, resourcesFor: (request: FastifyRequest, store?: ResourceStore) => ResourceView) {
  const runner = sqlRunner(ctx.db);
  async function inTransaction(request: FastifyRequest, type: string, condition: string, work: (views: ConditionalViews) => Promise<WriteResult>) {
    const searchAccess = await authorizeConditionSearch(ctx, request, type, conditionOf(type, condition), runner);
    return ctx.resources.transaction((store) =>
      work({ write: resourcesFor(request, store), search: confinedResources(store, searchAccess.confinement, ctx.config.baseUrl) }),
    );
  }
  const queryOf = (request: FastifyRequest) => {
    const at = request.url.indexOf('?');
    return at < 0 ? '' : request.url.slice(at + 1);
  };
  const typeOf = (request: FastifyRequest) => checkType((request.params as { type: string }).type);

  return {
    create: (request: FastifyRequest, resource: Resource, ifNoneExist: string) =>
      inTransaction(request, resource.resourceType, ifNoneExist, (views) => conditionalCreate(ctx, views, resource, ifNoneExist)),
    update: (request: FastifyRequest, resource: Resource, bodyId: string | undefined) =>
      inTransaction(request, resource.resourceType, queryOf(request), (views) => conditionalUpdate(ctx, views, resource, bodyId, queryOf(request))),
    patch: (request: FastifyRequest, contentType: string) =>
      inTransaction(request, typeOf(request), queryOf(request), (views) =>
        conditionalPatch(ctx, views, typeOf(request), queryOf(request), request.body, contentType),
      ),
    remove: (request: FastifyRequest) =>
      inTransaction(request, typeOf(request), queryOf(request), (views) => conditionalDelete(ctx, views, typeOf(request), queryOf(request))),
  };
}
