// GET /{type}: a searchset Bundle. Only the result parameters listed here and the type's search parameters
// (src/search/parameters.ts) are understood; any other is refused, rather than silently ignored and answered
// with more than the caller asked for.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ResourceView } from '../access/confined-resources.ts';
import type { AppContext } from '../context.ts';
import { sendResource } from '../http/reply-format.ts';
import { searchFilters } from '../search/query.ts';
import type { SearchQuery } from '../store/resource-store.ts';
import { searchBundle } from './bundle.ts';
import { badRequest } from '../fhir/outcome.ts';
import { checkType } from './validate.ts';

export const RESULT_PARAMETERS = ['_count', '_page', '_sort', '_total', '_format'] as const;
export const MAX_COUNT = 1000;
export const DEFAULT_COUNT = 100;
const SORTS: Record<string, SearchQuery['sort']> = { _lastUpdated: 'lastUpdated', '-_lastUpdated': '-lastUpdated', _id: 'id' };

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

function parseSearch(type: string, query: Query, baseUrl: string): SearchQuery & { page: number } {
  const results = new Set<string>(RESULT_PARAMETERS);
  const searchParams = Object.entries(query)
    .filter(([name]) => !results.has(name))
    .map(([name, value]): [string, string[]] => [name, [value ?? ''].flat()]);
  const filters = searchFilters(type, searchParams, baseUrl, RESULT_PARAMETERS);
  const count = pagingParameter(query, '_count', DEFAULT_COUNT, 0, MAX_COUNT);
  const page = pagingParameter(query, '_page', 1, 1, 1_000_000);
  const sortParam = single(query, '_sort') ?? '_id';
  const sort = SORTS[sortParam];
  if (!sort) throw badRequest(`_sort must be one of ${Object.keys(SORTS).join(', ')}, got "${sortParam.slice(0, 40)}"`, 'value', ['_sort']);
  const total = single(query, '_total') ?? 'accurate';
  if (!['accurate', 'estimate', 'none'].includes(total)) {
    throw badRequest(`_total must be accurate, estimate or none, got "${total.slice(0, 40)}"`, 'value', ['_total']);
  }
  return { filters, count, page, offset: (page - 1) * count, sort, total: total !== 'none' };
}

export function searchHandler(ctx: AppContext, resourcesFor: (request: FastifyRequest) => ResourceView) {
  return async (request: FastifyRequest<{ Params: { type: string }; Querystring: Query }>, reply: FastifyReply) => {
    const type = checkType(request.params.type);
    const search = parseSearch(type, request.query, ctx.config.baseUrl);
    // One row more than the page tells whether a next page exists without counting.
    const { resources, total } = await resourcesFor(request).search(type, { ...search, count: search.count + 1 });
    // _count=0 asks only for the total: there is no next page of nothing.
    const hasNext = search.count > 0 && resources.length > search.count;
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(request.query)) {
      if (name !== '_page' && name !== '_count') for (const item of [value ?? ''].flat()) params.append(name, item);
    }
    const bundle = searchBundle(ctx.config.baseUrl, resources.slice(0, search.count), {
      baseUrl: `${ctx.config.baseUrl}/${type}`,
      params,
      page: search.page,
      count: search.count,
      total,
      hasNext,
    });
    return sendResource(request, reply, 200, bundle);
  };
}
