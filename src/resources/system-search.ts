// GET /?_type=A,B&... : a search across types (FHIR R4 §3.1.1.1, `_type`). Each named type is searched as
// `GET /{type}` would be, through the one authorization step on its own (related-access.ts): a type the caller
// may not search is left out, said in an OperationOutcome entry, as for an include (OWASP ASVS 5.0 V8.2.2); when
// none may be searched, the denial is the answer. The page is a merge of each type's own ordered matches.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ResourceView } from '../access/confined-resources.ts';
import type { SearchAccess } from '../access/related-access.ts';
import type { AppContext } from '../context.ts';
import { badRequest, FhirError } from '../fhir/outcome.ts';
import { RESOURCE_TYPES } from '../fhir/resource-types.ts';
import { sendResource } from '../http/reply-format.ts';
import { searchParametersOf } from '../search/parameters.ts';
import type { Resource } from '../store/resource-store.ts';
import { searchBundle } from './bundle.ts';
import { outcomeEntry, searchFor, DEFAULT_COUNT, MAX_COUNT, pagingParameter, RESULT_PARAMETERS } from './search.ts';
import { parseShaping, shapeResource } from './summary.ts';

/** Types one search may name: each is an authorization decision and a query. */
export const MAX_SEARCH_TYPES = 20;
/** How deep a search across types may page: each type's matches up to the page's end are read and merged. */
export const MAX_SYSTEM_SEARCH_DEPTH = 10_000;
/** The orders a merge across types can keep: the columns every type has. */
const SORTS = ['_id', '-_id', '_lastUpdated', '-_lastUpdated'];
/** Not across types: the parameters that name a reference parameter of one type. */
const NOT_ACROSS_TYPES = ['_include', '_revinclude'];

type Query = Record<string, string | string[] | undefined>;

/** The types `_type` names, in order, each once; a 400 for an unknown type, an empty or too long list. */
export function parseTypeList(value: string | string[] | undefined): string[] {
  if (value === undefined) throw badRequest('A search across types needs _type, the comma-separated types to search (GET /?_type=Patient,Practitioner&...)', 'required', ['_type']);
  if (Array.isArray(value)) throw badRequest('_type may appear only once', 'value', ['_type']);
  const types = [...new Set(value.split(','))];
  if (types.length > MAX_SEARCH_TYPES) throw new FhirError(400, 'too-costly', `_type may name at most ${MAX_SEARCH_TYPES} types`, {}, ['_type']);
  for (const type of types) {
    if (!RESOURCE_TYPES.has(type)) throw badRequest(`_type: "${type.slice(0, 64)}" is not a resource type`, 'value', ['_type']);
  }
  return types;
}

/** The code a parameter name starts with (`subject.name` → `subject`, `code:text` → `code`). */
const codeOf = (name: string) => name.split(/[.:]/)[0];

/**
 * A parameter some named types have and others not would be ignored by those (and find all of them) under
 * `Prefer: handling=lenient`: it must be one every type has, whatever the handling.
 */
function checkCommon(types: string[], query: Query): void {
  for (const name of Object.keys(query)) {
    const code = codeOf(name);
    if (name === '_type' || (RESULT_PARAMETERS as readonly string[]).includes(code) || code === '_has') continue;
    const lacking = types.filter((type) => !searchParametersOf(type).has(code));
    if (lacking.length > 0 && lacking.length < types.length) {
      throw badRequest(`Search parameter ${name.slice(0, 64)} is not one of every type in _type: ${lacking.join(', ')} has none`, 'not-supported', [name]);
    }
  }
}

/** Sort key of a resource under the merge's order, and whether descending. */
function mergeKey(sort: string | undefined): { key: (resource: Resource) => string; descending: boolean } {
  if (sort === undefined) return { key: () => '', descending: false };
  const descending = sort.startsWith('-');
  const column = descending ? sort.slice(1) : sort;
  return { key: column === '_id' ? (r) => r.id : (r) => String(r.meta?.lastUpdated ?? ''), descending };
}

/**
 * Merges each type's ordered matches into one order: by the key, ties by the types' order in `_type`; each list
 * keeps its own order, so a page of the merge is the same whichever page asks for it.
 */
function merge(lists: Resource[][], sort: string | undefined): Resource[] {
  const { key, descending } = mergeKey(sort);
  const heads = lists.map(() => 0);
  const merged: Resource[] = [];
  for (;;) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      if (heads[i] >= lists[i].length) continue;
      if (best < 0) {
        best = i;
        continue;
      }
      const a = key(lists[i][heads[i]]);
      const b = key(lists[best][heads[best]]);
      if (descending ? a > b : a < b) best = i;
    }
    if (best < 0) return merged;
    merged.push(lists[best][heads[best]++]);
  }
}

export function systemSearchHandler(ctx: AppContext, access: SearchAccess) {
  return async (request: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply) => {
    const baseUrl = ctx.config.baseUrl;
    const types = parseTypeList(request.query._type);
    const query: Query = { ...request.query };
    delete query._type;
    for (const name of NOT_ACROSS_TYPES) {
      if (Object.keys(query).some((key) => codeOf(key) === name)) throw badRequest(`${name} is not supported in a search across types`, 'not-supported', [name]);
    }
    const sort = query._sort;
    if (sort !== undefined && (Array.isArray(sort) || !SORTS.includes(sort))) {
      throw badRequest(`A search across types sorts by ${SORTS.join(', ')} only`, 'not-supported', ['_sort']);
    }
    checkCommon(types, query);
    const shaping = parseShaping(query);
    // _summary=count asks for the total alone, as on one type.
    const count = shaping.summary === 'count' ? 0 : pagingParameter(query, '_count', DEFAULT_COUNT, 0, MAX_COUNT);
    const page = pagingParameter(query, '_page', 1, 1, 1_000_000);
    const depth = page * count;
    if (depth > MAX_SYSTEM_SEARCH_DEPTH) {
      throw new FhirError(400, 'too-costly', `A search across types pages up to ${MAX_SYSTEM_SEARCH_DEPTH} results (_page × _count)`, {}, ['_page']);
    }

    // Each type through the authorization step, as its own GET /{type} would be.
    const views = new Map<string, ResourceView>();
    const denied: FhirError[] = [];
    const warnings: string[] = [];
    for (const type of types) {
      const view = await access(request, type);
      if (view instanceof FhirError) {
        denied.push(view);
        warnings.push(`${type} was left out: the caller may not search it`);
      } else views.set(type, view);
    }
    if (views.size === 0) throw denied[0];
    const viewOf = async (type: string) => {
      if (views.has(type)) return views.get(type)!;
      const view = await access(request, type);
      return view instanceof FhirError ? null : view;
    };

    const lists: Resource[][] = [];
    let total: number | undefined = 0;
    const ignored = new Set<string>();
    for (const [type, view] of views) {
      const search = await searchFor(request, type, query, baseUrl, viewOf);
      search.ignored.forEach((name) => ignored.add(name));
      // Every type's matches up to the end of this page, and one more: the merge's page is within them.
      const found = await view.search(type, { ...search, count: depth + 1, offset: 0 });
      lists.push(found.resources);
      total = total === undefined || found.total === undefined ? undefined : total + found.total;
    }
    const merged = merge(lists, sort as string | undefined);
    const matches = count === 0 ? [] : merged.slice((page - 1) * count, page * count);
    const hasNext = count > 0 && merged.length > page * count;

    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(request.query)) {
      if (name === '_page' || name === '_count' || ignored.has(name)) continue;
      for (const item of [value ?? ''].flat()) params.append(name, item);
    }
    const bundle = searchBundle(baseUrl, matches.map((resource) => shapeResource(resource, shaping)), {
      baseUrl: `${baseUrl}/`, params, page, count, ...(total !== undefined && { total }), hasNext,
    });
    const all = [...[...ignored].map((name) => `Search parameter "${name.slice(0, 64)}" is not supported and was ignored`), ...warnings];
    if (all.length > 0) (bundle.entry as unknown[]).push(outcomeEntry(all));
    return sendResource(request, reply, 200, bundle);
  };
}
