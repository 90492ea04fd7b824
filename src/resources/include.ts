// _include and _revinclude (FHIR R4 §3.1.1.5.4): the resources a page's matches point at, and those pointing at
// them, added to the Bundle with search.mode "include". `:iterate` repeats on what was included, a bounded
// number of rounds. Every included resource is fetched through the caller's view of its type, so it passes
// the same authorization step as a search of that type would (src/access/related-access.ts): a patient-confined
// token never receives another patient's resource through an include.
import type { ResourceView } from '../access/confined-resources.ts';
import { badRequest } from '../fhir/outcome.ts';
import { RESOURCE_TYPES } from '../fhir/resource-types.ts';
import { referencesThrough } from '../search/extract.ts';
import { holdsAnyKey, keptAsKeys, referenceKeys } from '../search/index-keys.ts';
import { searchParametersOf } from '../search/parameters.ts';
import type { Resource, SearchFilter, SearchResult } from '../store/resource-store.ts';

/** Rounds of `:iterate` after the first: enough for MedicationRequest → Medication → Organization chains. */
export const MAX_ITERATE_ROUNDS = 3;
/** Included resources per page, at most; more are left out with a warning. */
export const MAX_INCLUDED = 1000;
/** `_include` and `_revinclude` values per search, at most. */
export const MAX_INCLUDE_VALUES = 10;

export interface Include {
  /** The type whose reference parameter is followed (`*`: any type, for `_include=*`). */
  source: string;
  /** The reference parameter (`*`: every reference parameter of the source). */
  code: string;
  /** Only references to this type. */
  target?: string;
  iterate: boolean;
}

export interface Includes {
  include: Include[];
  revinclude: Include[];
}

type Query = Record<string, string | string[] | undefined>;

function parseInclude(type: string, name: '_include' | '_revinclude', iterate: boolean, value: string): Include {
  const fail = (why: string) => badRequest(`${name}${iterate ? ':iterate' : ''}=${value.slice(0, 80)}: ${why}`, 'value', [name]);
  if (value === '*' && name === '_include') return { source: '*', code: '*', iterate };
  const [source, code, target, ...rest] = value.split(':');
  if (rest.length > 0 || !source || !code) throw fail('expected [type]:[reference parameter][:target type] or *');
  if (!RESOURCE_TYPES.has(source)) throw fail(`unknown resource type "${source.slice(0, 64)}"`);
  if (target !== undefined && !RESOURCE_TYPES.has(target)) throw fail(`unknown resource type "${target.slice(0, 64)}"`);
  // Without :iterate an _include starts from the matches: its type is the searched type (R4 §3.1.1.5.4).
  if (name === '_include' && !iterate && source !== type) throw fail(`an _include without :iterate follows a reference of ${type}`);
  if (code === '*') return { source, code, ...(target !== undefined && { target }), iterate };
  const parameter = searchParametersOf(source).get(code);
  if (parameter?.type !== 'reference') throw fail(`${source} has no reference parameter "${code.slice(0, 64)}"`);
  if (target !== undefined && parameter.targets.length > 0 && !parameter.targets.includes(target)) {
    throw fail(`${source}.${code} does not point at ${target}; it may point at ${parameter.targets.join(', ')}`);
  }
  if (name === '_revinclude' && !iterate && parameter.targets.length > 0 && !parameter.targets.includes(type)) {
    throw fail(`${source}.${code} never points at ${type}`);
  }
  return { source, code, ...(target !== undefined && { target }), iterate };
}

/** The `_include` and `_revinclude` values of a query (`:recurse` is R3's name for `:iterate`). */
export function parseIncludes(type: string, query: Query): Includes {
  const includes: Includes = { include: [], revinclude: [] };
  for (const [key, raw] of Object.entries(query)) {
    const [name, modifier, ...rest] = key.split(':');
    if (name !== '_include' && name !== '_revinclude') continue;
    if (rest.length > 0 || (modifier !== undefined && modifier !== 'iterate' && modifier !== 'recurse')) {
      throw badRequest(`${name} takes only the modifier :iterate, got "${key.slice(0, 64)}"`, 'not-supported', [key]);
    }
    for (const value of [raw ?? ''].flat()) {
      includes[name === '_include' ? 'include' : 'revinclude'].push(parseInclude(type, name, modifier !== undefined, value));
    }
  }
  if (includes.include.length + includes.revinclude.length > MAX_INCLUDE_VALUES) {
    throw badRequest(`A search may have at most ${MAX_INCLUDE_VALUES} _include and _revinclude values`, 'too-costly', ['_include']);
  }
  return includes;
}

export const hasIncludes = (includes: Includes) => includes.include.length + includes.revinclude.length > 0;

const keyOf = (resource: Resource) => `${resource.resourceType}/${resource.id}`;

/** The local references of `from` that `include` follows, by target type. */
function referencedIds(from: Resource[], include: Include, baseUrl: string, into: Map<string, Set<string>>) {
  for (const resource of from) {
    if (include.source !== '*' && resource.resourceType !== include.source) continue;
    const parameters = searchParametersOf(resource.resourceType);
    const codes = include.code === '*' ? [...parameters.values()].filter((p) => p.type === 'reference').map((p) => p.code) : [include.code];
    for (const ref of referencesThrough(resource, codes)) {
      if (!ref.target_type || !ref.target_id) continue;
      if (ref.url !== null && ref.url !== `${baseUrl}/${ref.target_type}/${ref.target_id}`) continue;
      if (include.target !== undefined && ref.target_type !== include.target) continue;
      if (!into.has(ref.target_type)) into.set(ref.target_type, new Set());
      into.get(ref.target_type)!.add(ref.target_id);
    }
  }
}

/** Resources of `source` pointing through `code` (any reference parameter for `*`) at one of `targets`. */
function pointingAt(source: string, code: string, targets: Resource[], baseUrl: string): SearchFilter {
  if (keptAsKeys(source)) {
    const codes = code === '*' ? [...searchParametersOf(source).values()].filter((p) => p.type === 'reference').map((p) => p.code) : [code];
    const keys = codes.flatMap((each) => targets.map((target) => referenceKeys.typed(each, target.resourceType, target.id)));
    return (bind) => holdsAnyKey(source, keys, bind);
  }
  const pairs = JSON.stringify(targets.map((resource) => [resource.resourceType, resource.id]));
  // From the targets to the index rows that name them (search_reference_target), then to the resources.
  return (bind) =>
    `resource.id in (select s.id from search_reference s
       where (s.target_type, s.target_id) in (select r->>0, r->>1 from jsonb_array_elements(${bind(pairs)}::text::jsonb) r)
         and s.type = ${bind(source)} ${code === '*' ? '' : `and s.code = ${bind(code)}`}
         and (s.url is null or s.url = ${bind(`${baseUrl}/`)} || s.target_type || '/' || s.target_id))`;
}

export interface Included {
  resources: Resource[];
  /** Each included resource's stored JSON text, when read as is (`texts[i]` is `resources[i]`'s): spliced, not serialised again. */
  texts: (string | undefined)[];
  /** Why some were left out, for an OperationOutcome entry. */
  warnings: string[];
}

/**
 * The resources the includes add to `matches`, each through `viewOf(type)`: the caller's view of that type,
 * or null when the caller may not search it (then none of that type is included).
 */
export async function includedResources(
  matches: Resource[],
  includes: Includes,
  viewOf: (type: string) => Promise<ResourceView | null>,
  baseUrl: string,
): Promise<Included> {
  const seen = new Set(matches.map(keyOf));
  const included: Resource[] = [];
  const texts: (string | undefined)[] = [];
  const warnings = new Set<string>();
  const add = ({ resources: found, texts: foundTexts }: SearchResult) => {
    const fresh: Resource[] = [];
    for (const [i, resource] of found.entries()) {
      if (seen.has(keyOf(resource))) continue;
      if (included.length >= MAX_INCLUDED) {
        warnings.add(`More than ${MAX_INCLUDED} resources to include: the rest were left out`);
        break;
      }
      seen.add(keyOf(resource));
      included.push(resource);
      texts.push(foundTexts?.[i]);
      fresh.push(resource);
    }
    return fresh;
  };

  let frontier = matches;
  for (let round = 0; round <= MAX_ITERATE_ROUNDS && frontier.length > 0; round++) {
    const active = (list: Include[]) => (round === 0 ? list : list.filter((include) => include.iterate));
    const next: Resource[] = [];
    const wanted = new Map<string, Set<string>>();
    for (const include of active(includes.include)) referencedIds(frontier, include, baseUrl, wanted);
    for (const [type, ids] of wanted) {
      const view = await viewOf(type);
      if (!view) {
        warnings.add(`${type} resources were not included: the caller may not search ${type}`);
        continue;
      }
      next.push(...add(await view.search(type, { ids: [...ids], count: ids.size, offset: 0, sort: 'id', total: false })));
    }
    for (const revinclude of active(includes.revinclude)) {
      const view = await viewOf(revinclude.source);
      if (!view) {
        warnings.add(`${revinclude.source} resources were not included: the caller may not search ${revinclude.source}`);
        continue;
      }
      const targets = frontier.filter((resource) => revinclude.target === undefined || resource.resourceType === revinclude.target);
      if (targets.length === 0) continue;
      const found = await view.search(revinclude.source, {
        filters: [pointingAt(revinclude.source, revinclude.code, targets, baseUrl)],
        count: MAX_INCLUDED + 1,
        offset: 0,
        sort: 'id',
        total: false,
      });
      next.push(...add(found));
    }
    frontier = next;
  }
  return { resources: included, texts, warnings: [...warnings] };
}
