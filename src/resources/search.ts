// GET /{type}: a searchset Bundle. Only the result parameters listed here and the type's search parameters
// (src/search/parameters.ts) are understood. Any other is refused, rather than silently ignored and answered
// with more than the caller asked for, unless the client asks `Prefer: handling=lenient` (FHIR R4 §3.1.1.2):
// then it is ignored, and said so in an OperationOutcome entry.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ResourceView } from '../access/confined-resources.ts';
import type { RelatedResources } from '../access/related-access.ts';
import type { AppContext } from '../context.ts';
import { sendResource } from '../http/reply-format.ts';
import { searchFilters, type SearchOptions } from '../search/query.ts';
import { sortOrder } from '../search/sort.ts';
import type { Resource, SearchFilter, SearchQuery } from '../store/resource-store.ts';
import { searchBundle, searchBundleJson } from './bundle.ts';
import { badRequest } from '../fhir/outcome.ts';
import { hasIncludes, includedResources, parseIncludes, type Includes } from './include.ts';
import { parseShaping, shapeResource, type Shaping } from './summary.ts';
import { checkType } from './validate.ts';

export const RESULT_PARAMETERS = ['_count', '_page', '_sort', '_total', '_format', '_summary', '_elements', '_include', '_revinclude'] as const;
export const MAX_COUNT = 1000;
export const DEFAULT_COUNT = 100;

type Query = Record<string, string | string[] | undefined>;

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw badRequest(`Search parameter ${name} may appear only once`, 'value', [name]);
  return value;
}

export function pagingParameter(query: Query, name: '_count' | '_page', fallback: number, min: number, max: number): number {
  const raw = single(query, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw badRequest(`${name} must be an integer from ${min} to ${max}, got "${raw.slice(0, 40)}"`, 'value', [name]);
  }
  return value;
}

/** A result parameter, with or without a modifier (`_include:iterate`). */
const isResultParameter = (name: string) => (RESULT_PARAMETERS as readonly string[]).includes(name.split(':')[0]);

export interface ParsedSearch extends SearchQuery {
  page: number;
  includes: Includes;
  shaping: Shaping;
  /** Parameters ignored under `Prefer: handling=lenient`. */
  ignored: string[];
}

/**
 * The search a query asks for on `type`. `visibility` gives the caller's visibility of each type a chain or
 * `_has` looks into; `lenient` ignores unknown parameters instead of refusing them.
 */
export function parseSearch(type: string, query: Query, baseUrl: string, visibility: SearchOptions['visibility'], lenient = false): ParsedSearch {
  const searchParams = Object.entries(query)
    .filter(([name]) => !isResultParameter(name))
    .map(([name, value]): [string, string[]] => [name, [value ?? ''].flat()]);
  const ignored: string[] = [];
  const filters = searchFilters(type, searchParams, baseUrl, RESULT_PARAMETERS, {
    ...(visibility && { visibility }),
    ...(lenient && { onUnknown: (name: string) => ignored.push(name) }),
  });
  const shaping = parseShaping(query);
  const count = shaping.summary === 'count' ? 0 : pagingParameter(query, '_count', DEFAULT_COUNT, 0, MAX_COUNT);
  const page = pagingParameter(query, '_page', 1, 1, 1_000_000);
  const sort = single(query, '_sort');
  const total = single(query, '_total') ?? 'accurate';
  if (!['accurate', 'estimate', 'none'].includes(total)) {
    throw badRequest(`_total must be accurate, estimate or none, got "${total.slice(0, 40)}"`, 'value', ['_total']);
  }
  return {
    filters,
    count,
    page,
    offset: (page - 1) * count,
    sort: 'id',
    ...(sort !== undefined && { order: sortOrder(type, sort) }),
    // _summary=count asks for the total alone: it is counted even with _total=none.
    total: total !== 'none' || shaping.summary === 'count',
    includes: parseIncludes(type, query),
    shaping,
    ignored,
  };
}

/** `Prefer: handling=lenient` (RFC 7240, FHIR R4 §3.1.1.2); strict otherwise. */
export function lenientHandling(request: FastifyRequest): boolean {
  const prefer = [request.headers.prefer ?? []].flat().join(',');
  return /(?:^|[,;\s])handling\s*=\s*"?lenient"?(?:$|[,;\s])/i.test(prefer);
}

const NOTHING: SearchFilter = () => 'false';

/**
 * Parses the search with the caller's visibility of every type its chains and `_has` reach: a first parse
 * names those types, each passes the authorization step, the second parse writes their visibility in.
 */
export async function searchFor(
  request: FastifyRequest,
  type: string,
  query: Query,
  baseUrl: string,
  viewOf: (type: string) => Promise<ResourceView | null>,
): Promise<ParsedSearch> {
  const lenient = lenientHandling(request);
  const reached = new Set<string>();
  const first = parseSearch(type, query, baseUrl, (reachedType) => (reached.add(reachedType), null), lenient);
  if (reached.size === 0) return first;
  const visibilities = new Map<string, SearchFilter | null>();
  for (const reachedType of reached) {
    const view = await viewOf(reachedType);
    visibilities.set(reachedType, view ? view.visibilityCondition(reachedType) : NOTHING);
  }
  return parseSearch(type, query, baseUrl, (reachedType) => (visibilities.has(reachedType) ? visibilities.get(reachedType)! : NOTHING), lenient);
}

export function outcomeEntry(warnings: string[]) {
  return {
    resource: {
      resourceType: 'OperationOutcome',
      issue: warnings.map((diagnostics) => ({ severity: 'warning', code: 'not-supported', diagnostics })),
    },
    search: { mode: 'outcome' },
  };
}

export function searchHandler(ctx: AppContext, resourcesFor: (request: FastifyRequest) => ResourceView, related: RelatedResources) {
  return async (request: FastifyRequest<{ Params: { type: string }; Querystring: Query }>, reply: FastifyReply) => {
    const type = checkType(request.params.type);
    const baseUrl = ctx.config.baseUrl;
    const own = resourcesFor(request);
    const views = new Map<string, Promise<ResourceView | null>>([[type, Promise.resolve(own)]]);
    const viewOf = (other: string) => {
      if (!views.has(other)) views.set(other, related(request, other));
      return views.get(other)!;
    };
    const search = await searchFor(request, type, request.query, baseUrl, viewOf);
    // Whether a next page exists: the total tells when it is counted; otherwise one row more than the page does.
    const peek = search.total ? 0 : 1;
    const { resources, total, texts } = await own.search(type, { ...search, count: search.count + peek });
    // _count=0 asks only for the total: there is no next page of nothing.
    const hasNext = search.count > 0 && (total !== undefined ? search.offset + search.count < total : resources.length > search.count);
    const matches = resources.slice(0, search.count);
    const included = hasIncludes(search.includes) ? await includedResources(matches, search.includes, viewOf, baseUrl) : { resources: [], texts: [], warnings: [] };

    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(request.query)) {
      if (name === '_page' || name === '_count' || search.ignored.includes(name)) continue;
      for (const item of [value ?? ''].flat()) params.append(name, item);
    }
    const shape = (resource: Resource) => shapeResource(resource, search.shaping);
    const shaped = matches.map(shape);
    const bundle = searchBundle(baseUrl, shaped, {
      baseUrl: `${baseUrl}/${type}`,
      params,
      page: search.page,
      count: search.count,
      total,
      hasNext,
    });
    const entries: unknown[] = bundle.entry;
    const includedShaped = included.resources.map(shape);
    for (const resource of includedShaped) {
      entries.push({ fullUrl: `${baseUrl}/${resource.resourceType}/${resource.id}`, resource, search: { mode: 'include' } });
    }
    const warnings = [...search.ignored.map((name) => `Search parameter "${name.slice(0, 64)}" is not supported for ${type} and was ignored`), ...included.warnings];
    if (warnings.length > 0) entries.push(outcomeEntry(warnings));
    // A resource sent as it was read goes out as its stored JSON text; one shaped by _summary or _elements is new.
    const storedTexts = [
      ...shaped.map((resource, i) => (resource === matches[i] ? texts?.[i] : undefined)),
      ...includedShaped.map((resource, i) => (resource === included.resources[i] ? included.texts[i] : undefined)),
    ];
    return sendResource(request, reply, 200, bundle, () => searchBundleJson(bundle, storedTexts));
  };
}
