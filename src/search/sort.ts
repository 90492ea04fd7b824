// `_sort` (FHIR R4 §3.1.1.6): any search parameter of the type, several keys by comma, `-` for descending.
// A resource with several values sorts by its lowest ascending and its highest descending; one with none
// sorts last either way. The id breaks ties, so pages of one search never repeat or skip a resource.
import { badRequest } from '../fhir/outcome.ts';
import type { SearchFilter } from '../store/resource-store.ts';
import { keyedParameter, keyValueAfter, referencePrefix, tokenValuePrefix } from './index-keys.ts';
import { searchParametersOf, type SearchParameter, type SimpleParameterType } from './parameters.ts';

/** At most this many keys: each is a subquery per matched resource. */
export const MAX_SORT_KEYS = 4;

type Bind = (value: unknown) => string;

/** The value a resource sorts by for one index table, lowest and highest. */
const KEYS: Record<SimpleParameterType, { table: string; low: string; high: string }> = {
  string: { table: 'search_string', low: 'min(s.value)', high: 'max(s.value)' },
  token: { table: 'search_token', low: 'min(s.value)', high: 'max(s.value)' },
  uri: { table: 'search_token', low: 'min(s.value)', high: 'max(s.value)' },
  reference: {
    table: 'search_reference',
    low: "min(coalesce(s.target_type || '/' || s.target_id, s.url))",
    high: "max(coalesce(s.target_type || '/' || s.target_id, s.url))",
  },
  date: { table: 'search_date', low: 'min(s.low)', high: 'max(s.high)' },
  quantity: { table: 'search_quantity', low: 'min(s.low)', high: 'max(s.high)' },
  number: { table: 'search_quantity', low: 'min(s.low)', high: 'max(s.high)' },
};

function sortKey(type: string, parameter: SearchParameter, descending: boolean): (bind: Bind) => string {
  const direction = descending ? 'desc' : 'asc';
  if (parameter.column === 'id') return () => `resource.id ${direction}`;
  if (parameter.column === 'last_updated') return () => `resource.last_updated ${direction}`;
  if (keyedParameter(type, parameter.type)) {
    // By the code (any system) or the Type/id, as on rows.
    const prefix = parameter.type === 'token' ? tokenValuePrefix(parameter.code) : referencePrefix(parameter.code);
    return (bind) => `${keyValueAfter(prefix, descending, bind)} ${direction} nulls last`;
  }
  const key = KEYS[parameter.type as SimpleParameterType];
  return (bind) =>
    `(select ${descending ? key.high : key.low} from ${key.table} s
       where s.type = resource.type and s.id = resource.id and s.code = ${bind(parameter.code)}) ${direction} nulls last`;
}

/** The ORDER BY list `_sort` asks for on `type`, ending with the id; a 400 for what the type cannot sort by. */
export function sortOrder(type: string, sort: string): SearchFilter {
  const names = sort.split(',');
  if (names.length > MAX_SORT_KEYS) throw badRequest(`_sort may have at most ${MAX_SORT_KEYS} keys`, 'too-costly', ['_sort']);
  const parameters = searchParametersOf(type);
  const keys = names.map((name) => {
    const descending = name.startsWith('-');
    const code = descending ? name.slice(1) : name;
    const parameter = parameters.get(code);
    if (parameter?.composite) throw badRequest(`_sort: ${code} is a composite parameter, which has no order`, 'value', ['_sort']);
    if (parameter?.special) throw badRequest(`_sort: ${code} has no order on this server (neither relevance nor distance)`, 'value', ['_sort']);
    if (!parameter) {
      throw badRequest(`_sort: ${type} has no search parameter "${code.slice(0, 64)}"; sort by one of ${[...parameters.keys()].join(', ')}`, 'value', ['_sort']);
    }
    return { code, key: sortKey(type, parameter, descending), descending };
  });
  const byId = keys.find((key) => key.code === '_id');
  return (bind) => [...keys.map(({ key }) => key(bind)), ...(byId ? [] : ['resource.id asc'])].join(', ');
}
