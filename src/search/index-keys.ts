// The search index of a type written at every request, kept as keys in its own row (resource.index_keys, one GIN
// index, migration 0220) rather than as rows of the index tables: the audit trail's AuditEvents. Ten index rows,
// each a heap tuple and two btree entries, cost the store more than the event itself (bench/audit-write.ts); one
// array in the row it is written with costs a few entries in a GIN pending list. Its token and reference
// parameters are kept so; its dates stay rows of search_date (ranges are not keys).
// A key is the parameter's code, a kind and the value, separated by U+001F (which no code, system, reference or
// request id a search names holds):
//   v value          a token's code, in any system
//   s system value   a token's code in that system ('' for none); `system|` alone reads these by prefix, unindexed
//   r Type/id        a reference to a resource on this server; a bare id is each target type's key
//   u url            a reference by URL to another server
import type { IndexRows, ReferenceRow, TokenRow } from './extract.ts';

export const KEYED_TYPES: ReadonlySet<string> = new Set(['AuditEvent']);

export const keptAsKeys = (type: string): boolean => KEYED_TYPES.has(type);

/** Whether a parameter of this kind on `type` is kept as keys (tokens and references of a keyed type). */
export const keyedParameter = (type: string, parameterType: string): boolean =>
  KEYED_TYPES.has(type) && (parameterType === 'token' || parameterType === 'reference');

const SEPARATOR = '\u001f';

const key = (...parts: string[]) => parts.join(SEPARATOR);

/** Every key of `code` starts so (for `:missing` and sorting). */
export const codePrefix = (code: string) => `${code}${SEPARATOR}`;

export const tokenKeys = {
  value: (code: string, value: string) => key(code, 'v', value),
  systemValue: (code: string, system: string | null, value: string) => key(code, 's', system ?? '', value),
};

/** The keys of tokens of `code` in `system`, each followed by the code. */
export const tokenSystemPrefix = (code: string, system: string) => key(code, 's', system, '');

export const referenceKeys = {
  typed: (code: string, type: string, id: string) => key(code, 'r', `${type}/${id}`),
  url: (code: string, url: string) => key(code, 'u', url),
};

/** The keys of references of `code` to resources of `type`, each followed by the id (chains, `_has`, sorting). */
export const typedReferencePrefix = (code: string, type: string) => key(code, 'r', `${type}/`);
/** The keys of references of `code` to resources on this server, each followed by Type/id (sorting). */
export const referencePrefix = (code: string) => key(code, 'r', '');
/** The keys of tokens of `code` in any system, each followed by the code (sorting). */
export const tokenValuePrefix = (code: string) => key(code, 'v', '');

const tokenRowKeys = (row: TokenRow): string[] => [tokenKeys.value(row.code, row.value), tokenKeys.systemValue(row.code, row.system, row.value)];

/**
 * A reference by URL matches only that URL: a search names this server's resources as Type/id, and an absolute
 * URL in a row may be another server's (the extractor does not know this server's base).
 */
function referenceRowKeys(row: ReferenceRow): string[] {
  if (row.url !== null) return [referenceKeys.url(row.code, row.url)];
  if (row.target_type === null || row.target_id === null) return [];
  return [referenceKeys.typed(row.code, row.target_type, row.target_id)];
}

/** The keys of a resource's token and reference rows, each once. */
export function indexKeysOf(rows: Pick<IndexRows, 'token' | 'reference'>): string[] {
  return [...new Set([...rows.token.flatMap(tokenRowKeys), ...rows.reference.flatMap(referenceRowKeys)])];
}

type Bind = (value: unknown) => string;

/**
 * The resource (of a keyed type) holds one of `keys`. The type is written as a literal: it is what lets the
 * planner use the partial GIN index, in a generic plan too (where the search's own `type = $1` tells it nothing).
 */
export function holdsAnyKey(type: string, keys: readonly string[], bind: Bind): string {
  if (keys.length === 0) return 'false';
  // One parameter however many keys: a bare id names a key per target type, and a statement takes 65,535.
  return holdsAnyKeyOf(type, `select jsonb_array_elements_text(${bind(JSON.stringify(keys))}::text::jsonb)`);
}

/** Same, for keys made in SQL (a subquery yielding text). */
export function holdsAnyKeyOf(type: string, keysSql: string): string {
  return `(resource.type = ${literalType(type)} and resource.index_keys && array(${keysSql}))`;
}

/** The resource holds a key starting with `prefix` (no index: after the other conditions, or in a bulk walk). */
export const holdsKeyStarting = (prefix: string, bind: Bind) =>
  `exists (select 1 from unnest(resource.index_keys) k where starts_with(k, ${bind(prefix)}))`;

/** The lowest or highest of the values after `prefix` in the resource's keys (sorting). */
export const keyValueAfter = (prefix: string, highest: boolean, bind: Bind) =>
  `(select ${highest ? 'max' : 'min'}(substr(k, ${prefix.length + 1})) from unnest(resource.index_keys) k where starts_with(k, ${bind(prefix)}))`;

function literalType(type: string): string {
  if (!KEYED_TYPES.has(type)) throw new Error(`${type} keeps its search index as rows, not keys`);
  return `'${type}'`;
}
