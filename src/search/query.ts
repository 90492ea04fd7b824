// Search parameters of a request turned into SQL conditions on the `resource` table. Every value the caller
// sent reaches the database as a bind parameter; only table and column names from this file are spliced in.
// Repeating a parameter ANDs its occurrences, a comma inside one ORs its values (FHIR R4 §3.1.1.3, §3.1.1.5).
import { badRequest, FhirError } from '../fhir/outcome.ts';
import { RESOURCE_TYPES } from '../fhir/resource-types.ts';
import type { SearchFilter } from '../store/resource-store.ts';
import { boundToMs, parseDateRange, toBound, type DateRange } from './date-range.ts';
import { codePrefix, holdsAnyKey, holdsAnyKeyOf, holdsKeyStarting, keptAsKeys, keyedParameter, referenceKeys, tokenKeys, tokenSystemPrefix, typedReferencePrefix } from './index-keys.ts';
import { indexedFor, searchParametersOf, type SearchParameter, type SimpleParameterType } from './parameters.ts';
import { nearCondition, parseNear } from './near.ts';
import { foldText } from './text.ts';
import { escapeTokenPart, normalizeString, truncateValue } from './values.ts';

type Bind = (value: unknown) => string;
/** One value of a parameter as an SQL condition, on the index row `s` or on the `resource` row. */
type Condition = (bind: Bind) => string;

const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;
const TABLES = {
  string: 'search_string', token: 'search_token', uri: 'search_token', reference: 'search_reference', date: 'search_date',
  quantity: 'search_quantity', number: 'search_quantity',
} as const;
const MODIFIERS: Record<SearchParameter['type'], string[]> = {
  string: ['exact', 'contains', 'missing'],
  token: ['not', 'missing', 'text', 'of-type'],
  uri: ['missing', 'above', 'below'],
  reference: ['missing', 'identifier'],
  date: ['missing'],
  quantity: ['missing'],
  number: ['missing'],
  composite: [],
  special: [],
};

interface Context {
  /** The type searched. */
  type: string;
  name: string;
  parameter: SearchParameter;
  modifier: string | undefined;
  baseUrl: string;
}

const invalid = (ctx: Context, message: string) => badRequest(`Search parameter ${ctx.name}: ${message}`, 'value', [ctx.name]);

/** Splits at the separator unless escaped with `\`, then drops the escapes (`\,` `\|` `\$` `\\`). */
function splitEscaped(value: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const char = value[i];
    if (char === '\\' && i + 1 < value.length) {
      current += value[++i];
    } else if (char === separator) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts;
}

function splitOr(value: string): string[] {
  // Keep the other escapes for the value's own parser: split on commas, unescape only `\,`.
  return value.split(/(?<!\\),/).map((part) => part.replace(/\\,/g, ','));
}

/** A value matched by LIKE as itself: its own `%`, `_` and `\` escaped. */
const likeEscaped = (value: string) => value.replace(/[\\%_]/g, (char) => `\\${char}`);

function stringCondition(ctx: Context, value: string): Condition {
  if (value === '') throw invalid(ctx, 'a string value must not be empty');
  if (ctx.modifier === 'exact') return (bind) => `s.raw = ${bind(value)}`;
  const normalized = normalizeString(value);
  if (normalized === '') throw invalid(ctx, 'a string value must have more than accents');
  if (ctx.modifier === 'contains') return (bind) => `strpos(s.value, ${bind(normalized)}) > 0`;
  // LIKE with a constant prefix can use the text_pattern_ops index; the value's own % _ \ are escaped.
  const prefix = `${likeEscaped(normalized)}%`;
  return (bind) => `s.value like ${bind(prefix)}`;
}

/** `:text` on a token: the text or a display has a word starting with the value, ignoring case and accents. */
function textCondition(ctx: Context, value: string): Condition {
  const normalized = normalizeString(value);
  if (normalized === '') throw invalid(ctx, 'a text must not be empty');
  const escaped = likeEscaped(normalized);
  return (bind) => `(s.value like ${bind(`${escaped}%`)} or s.value like ${bind(`% ${escaped}%`)})`;
}

/** A token value (R4 §3.1.1.4.11): `code`, `|code` (no system: null), `system|` (any code), `system|code`. */
interface TokenValue {
  system?: string | null;
  code?: string;
}

function parseToken(ctx: Context, value: string): TokenValue {
  const parts = splitEscaped(value, '|');
  if (parts.length > 2) throw invalid(ctx, `"${value.slice(0, 80)}" is not [system]|[code]: escape a "|" in a code as "\\|"`);
  if (parts.length === 1) {
    if (parts[0] === '') throw invalid(ctx, 'a token must not be empty');
    return { code: truncateValue(parts[0]) };
  }
  const [system, code] = [parts[0], truncateValue(parts[1])];
  if (system === '' && code === '') throw invalid(ctx, 'a token needs a system, a code or both');
  if (system === '') return { system: null, code };
  return code === '' ? { system } : { system, code };
}

function tokenCondition(ctx: Context, value: string): Condition {
  const { system, code } = parseToken(ctx, value);
  if (system === undefined) return (bind) => `s.value = ${bind(code)}`;
  if (system === null) return (bind) => `(s.system is null and s.value = ${bind(code)})`;
  if (code === undefined) return (bind) => `s.system = ${bind(system)}`;
  return (bind) => `(s.system = ${bind(system)} and s.value = ${bind(code)})`;
}

/** `:of-type` takes `[type system]|[type code]|[value]` (R4 §3.1.1.5.10), all three parts required. */
function ofTypeCondition(ctx: Context, value: string): Condition {
  const parts = splitEscaped(value, '|');
  if (parts.length !== 3 || parts.some((part) => part === '')) throw invalid(ctx, ':of-type takes [system]|[code]|[value]');
  const [system, code, identifier] = parts;
  const joined = truncateValue(`${code}|${identifier}`);
  return (bind) => `(s.system = ${bind(system)} and s.value = ${bind(joined)})`;
}

/** `:below` the stored uri starts with the value, `:above` the value starts with the stored uri (R4 §3.1.1.5.9). */
function uriCondition(ctx: Context, value: string): Condition {
  if (value === '') throw invalid(ctx, 'a uri must not be empty');
  const uri = truncateValue(value);
  if (ctx.modifier === 'below') return (bind) => `s.value like ${bind(`${likeEscaped(uri)}%`)}`;
  if (ctx.modifier === 'above') return (bind) => `strpos(${bind(uri)}, s.value) = 1`;
  return (bind) => `s.value = ${bind(uri)}`;
}

/** A reference value (R4 §3.1.1.4.9): another server's URL, a Type/id here (from a URL on this server too), or a bare id. */
type ReferenceValue = { url: string } | { type: string; id: string } | { id: string };

function parseReference(ctx: Context, value: string): ReferenceValue {
  const { parameter, baseUrl } = ctx;
  if (value === '') throw invalid(ctx, 'a reference must not be empty');
  let relative = value;
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) {
    // An absolute URL on this server is the same reference as the relative one; any other matches as written.
    if (!value.startsWith(`${baseUrl}/`)) return { url: truncateValue(value) };
    relative = value.slice(baseUrl.length + 1);
  }
  const typed = /^([A-Za-z]+)\/([^/]+)(?:\/_history\/[^/]+)?$/.exec(relative);
  const type = typed ? typed[1] : ctx.modifier;
  const id = typed ? typed[2] : relative;
  if (!ID_PATTERN.test(id)) throw invalid(ctx, `"${value.slice(0, 80)}" is not a reference: expected [type]/[id], [id] or a URL`);
  if (type === undefined) return { id };
  if (!RESOURCE_TYPES.has(type)) throw invalid(ctx, `unknown resource type "${type.slice(0, 64)}"`);
  if (parameter.targets.length > 0 && !parameter.targets.includes(type)) {
    throw invalid(ctx, `${type} is not a target of ${parameter.code}; it may point at ${parameter.targets.join(', ')}`);
  }
  if (ctx.modifier !== undefined && typed && typed[1] !== ctx.modifier) throw invalid(ctx, `the modifier :${ctx.modifier} and the type ${type} disagree`);
  return { type, id };
}

function referenceCondition(ctx: Context, value: string): Condition {
  const { parameter, baseUrl } = ctx;
  const reference = parseReference(ctx, value);
  if ('url' in reference) return (bind) => `s.url = ${bind(reference.url)}`;
  const { id } = reference;
  if ('type' in reference) {
    const { type } = reference;
    return (bind) =>
      `(s.target_type = ${bind(type)} and s.target_id = ${bind(id)} and (s.url is null or s.url = ${bind(`${baseUrl}/${type}/${id}`)}))`;
  }
  // A bare id matches a reference to any of the parameter's target types (FHIR R4 §3.1.1.4.9).
  const ownUrl = (bind: Bind) => `(s.url is null or s.url = ${bind(`${baseUrl}/`)} || s.target_type || '/' || s.target_id)`;
  if (parameter.targets.length === 0) return (bind) => `(s.target_id = ${bind(id)} and s.target_type is not null and ${ownUrl(bind)})`;
  // The targets as one parameter: a parameter may point at every type, and a statement takes 65,535 parameters.
  const targets = JSON.stringify(parameter.targets);
  return (bind) =>
    `(s.target_id = ${bind(id)} and s.target_type in (select jsonb_array_elements_text(${bind(targets)}::text::jsonb)) and ${ownUrl(bind)})`;
}

/** `:missing=true` or `:missing=false`. */
function missingValue(ctx: Context, value: string): boolean {
  if (value !== 'true' && value !== 'false') throw invalid(ctx, ':missing takes true or false');
  return value === 'true';
}

/**
 * The index keys (src/search/index-keys.ts) a value of a keyed type's token or reference parameter matches, or,
 * for `system|` alone, the prefix of those it matches (read without the index).
 */
function valueKeys(ctx: Context, code: string, value: string): { keys: string[] } | { prefix: string } {
  const { parameter } = ctx;
  if (parameter.type === 'reference' && ctx.modifier !== 'identifier') {
    const reference = parseReference(ctx, value);
    if ('url' in reference) return { keys: [referenceKeys.url(code, reference.url)] };
    if ('type' in reference) return { keys: [referenceKeys.typed(code, reference.type, reference.id)] };
    // A bare id: a reference to it as any of the parameter's target types (FHIR R4 §3.1.1.4.9).
    const targets = parameter.targets.length > 0 ? parameter.targets : [...RESOURCE_TYPES];
    return { keys: targets.map((target) => referenceKeys.typed(code, target, reference.id)) };
  }
  const { system, code: token } = parseToken(ctx, value);
  if (system === undefined) return { keys: [tokenKeys.value(code, token!)] };
  return token === undefined ? { prefix: tokenSystemPrefix(code, system!) } : { keys: [tokenKeys.systemValue(code, system, token)] };
}

/**
 * One occurrence on a type whose tokens and references are keys in its row: its values are keys, one GIN probe
 * for any of them. `:identifier` reads the identifier tokens; `:not` and `:missing` as on rows.
 */
function keyedOccurrenceFilter(ctx: Context, value: string): SearchFilter {
  const { parameter, modifier, type } = ctx;
  const code = modifier === 'identifier' ? `${parameter.code}:identifier` : parameter.code;
  if (modifier === 'missing') {
    const missing = missingValue(ctx, value);
    return (bind) => `${missing ? 'not ' : ''}${holdsKeyStarting(codePrefix(code), bind)}`;
  }
  const matches = splitOr(value).map((v) => valueKeys(ctx, code, v));
  const keys = matches.flatMap((match) => ('keys' in match ? match.keys : []));
  const prefixes = matches.flatMap((match) => ('prefix' in match ? [match.prefix] : []));
  const holds = (bind: Bind) => [...(keys.length > 0 ? [holdsAnyKey(type, keys, bind)] : []), ...prefixes.map((prefix) => holdsKeyStarting(prefix, bind))].join(' or ');
  if (modifier === 'not') return (bind) => `not (${holds(bind)})`;
  return (bind) => `(${holds(bind)})`;
}

// `s`: a value with a line break is a malformed date too, not a value the pattern fails to match.
const DATE_PREFIX = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)?(.*)$/s;

// Bound values are cast from text: the `postgres` client would otherwise serialize a timestamptz parameter
// through Date, which has no infinity.
/**
 * A date value compared with a stored range [low, high) per FHIR R4 §3.1.1.4.2: `eq` the stored range lies
 * within the value's, `gt` some of it lies after, `sa` all of it does, `ap` it overlaps the value widened
 * by a tenth of its distance from `now`.
 */
export function dateComparison(prefix: string, range: DateRange, low: string, high: string, now = Date.now()): Condition {
  const within = (bind: Bind) => `(${low} >= ${bind(range.low)}::text::timestamptz and ${high} <= ${bind(range.high)}::text::timestamptz)`;
  switch (prefix) {
    case 'eq':
      return within;
    case 'ne':
      return (bind) => `not ${within(bind)}`;
    case 'gt':
      return (bind) => `${high} > ${bind(range.high)}::text::timestamptz`;
    case 'lt':
      return (bind) => `${low} < ${bind(range.low)}::text::timestamptz`;
    case 'ge':
      return (bind) => `(${high} > ${bind(range.high)}::text::timestamptz or ${within(bind)})`;
    case 'le':
      return (bind) => `(${low} < ${bind(range.low)}::text::timestamptz or ${within(bind)})`;
    case 'sa':
      return (bind) => `${low} >= ${bind(range.high)}::text::timestamptz`;
    case 'eb':
      return (bind) => `${high} <= ${bind(range.low)}::text::timestamptz`;
    default: {
      const widen = (bound: string, sign: number) => {
        const ms = boundToMs(bound);
        return Number.isFinite(ms) ? toBound(ms + sign * Math.abs(now - ms) * 0.1) : bound;
      };
      const wide = { low: widen(range.low, -1), high: widen(range.high, 1) };
      return (bind) => `(${low} < ${bind(wide.high)}::text::timestamptz and ${high} > ${bind(wide.low)}::text::timestamptz)`;
    }
  }
}

function dateCondition(ctx: Context, value: string, low = 's.low', high = 's.high'): Condition {
  const [, prefix = 'eq', date] = DATE_PREFIX.exec(value)!;
  const range = parseDateRange(date);
  if (!range) throw invalid(ctx, `"${value.slice(0, 80)}" is not a date: expected [prefix]YYYY[-MM[-DD[Thh:mm[:ss[.sss]][Z|±hh:mm]]]]`);
  return dateComparison(prefix, range, low, high);
}

const QUANTITY = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)?(-?\d{1,20}(?:\.(\d{1,20}))?(?:[eE]([+-]?\d{1,3}))?)$/;

/**
 * `[prefix]number[|system|code]` (FHIR R4 §3.1.1.4.5). Without a prefix the number stands for the values
 * it rounds from: 5.4 matches [5.35, 5.45). The code matches Quantity.code or Quantity.unit.
 */
function quantityCondition(ctx: Context, value: string, low = 's.low', high = 's.high'): Condition {
  const parts = splitEscaped(value, '|');
  const match = QUANTITY.exec(parts[0]);
  if (ctx.parameter.type === 'number' && (!match || parts.length !== 1)) {
    throw invalid(ctx, `"${value.slice(0, 80)}" is not a number: expected [prefix]number`);
  }
  if (!match || (parts.length !== 1 && parts.length !== 3)) {
    throw invalid(ctx, `"${value.slice(0, 80)}" is not a quantity: expected [prefix]number[|system|code]`);
  }
  const [, prefix = 'eq', number, fraction = '', exponent = '0'] = match;
  const half = `5e${-(fraction.length - Number(exponent) + 1)}`;
  const [system = '', unit = ''] = parts.slice(1);
  const compare = (bind: Bind): string => {
    const n = `${bind(number)}::text::numeric`;
    const within = () => `(${low} >= ${n} - ${bind(half)}::text::numeric and ${high} < ${n} + ${bind(half)}::text::numeric)`;
    switch (prefix) {
      case 'eq': return within();
      case 'ne': return `not ${within()}`;
      case 'gt': return `${high} > ${n}`;
      case 'lt': return `${low} < ${n}`;
      case 'ge': return `${high} >= ${n}`;
      case 'le': return `${low} <= ${n}`;
      case 'sa': return `${low} > ${n}`;
      case 'eb': return `${high} < ${n}`;
      default: return `(${low} <= ${n} + abs(${n}) * 0.1 and ${high} >= ${n} - abs(${n}) * 0.1)`;
    }
  };
  return (bind) => {
    const conditions = [compare(bind)];
    if (system !== '') conditions.push(`s.system = ${bind(system)}`);
    if (unit !== '') conditions.push(`(s.unit_code = ${bind(unit)} or s.unit = ${bind(unit)})`);
    return `(${conditions.join(' and ')})`;
  };
}

function idCondition(ctx: Context, value: string): Condition {
  if (!ID_PATTERN.test(value)) throw invalid(ctx, `"${value.slice(0, 80)}" is not an id: 1 to 64 characters of A-Z, a-z, 0-9, "-" and "."`);
  return (bind) => `resource.id = ${bind(value)}`;
}

const VALUE_CONDITIONS = {
  string: stringCondition, token: tokenCondition, uri: uriCondition, reference: referenceCondition, date: dateCondition,
  quantity: quantityCondition, number: quantityCondition,
};

const or = (conditions: Condition[], bind: Bind) => conditions.map((condition) => condition(bind)).join(' or ');

/** One occurrence of a parameter: its values, ORed, as one condition on the resource. */
function occurrenceFilter(ctx: Context, value: string): SearchFilter {
  const { parameter, modifier } = ctx;
  if (parameter.column === 'id') {
    const conditions = splitOr(value).map((v) => idCondition(ctx, v));
    return (bind) => or(conditions, bind);
  }
  if (parameter.column === 'last_updated') {
    const conditions = splitOr(value).map((v) => dateCondition(ctx, v, 'resource.last_updated', "(resource.last_updated + interval '1 millisecond')"));
    return (bind) => or(conditions, bind);
  }
  if (keyedParameter(ctx.type, parameter.type)) return keyedOccurrenceFilter(ctx, value);
  const type = parameter.type as SimpleParameterType;
  const table = TABLES[type];
  const rows = (bind: Bind, where: string, into: string = table, code = parameter.code) =>
    `exists (select 1 from ${into} s where s.type = resource.type and s.id = resource.id and s.code = ${bind(code)}${where})`;
  // Rows of their own (src/search/extract.ts): texts as strings, identifier types and reference identifiers as tokens.
  if (modifier === 'text') {
    const conditions = splitOr(value).map((v) => textCondition(ctx, v));
    return (bind) => rows(bind, ` and (${or(conditions, bind)})`, 'search_string', `${parameter.code}:text`);
  }
  if (modifier === 'identifier') {
    const conditions = splitOr(value).map((v) => tokenCondition(ctx, v));
    return (bind) => rows(bind, ` and (${or(conditions, bind)})`, 'search_token', `${parameter.code}:identifier`);
  }
  if (modifier === 'of-type') {
    const conditions = splitOr(value).map((v) => ofTypeCondition(ctx, v));
    return (bind) => rows(bind, ` and (${or(conditions, bind)})`, 'search_token', `${parameter.code}:of-type`);
  }
  if (modifier === 'missing') {
    const missing = missingValue(ctx, value);
    return (bind) => (missing ? `not ${rows(bind, '')}` : rows(bind, ''));
  }
  const conditions = splitOr(value).map((v) => VALUE_CONDITIONS[type](ctx, v));
  // :not keeps the resources with no matching value, including those with no value at all (FHIR R4 §3.1.1.5.5).
  if (modifier === 'not') return (bind) => `not ${rows(bind, ` and (${or(conditions, bind)})`)}`;
  return (bind) => rows(bind, ` and (${or(conditions, bind)})`);
}

/** `_text`, `_content`: every word of a value is in the resource (src/search/text.ts); commas OR values. */
function fullTextFilter(ctx: Context, value: string): SearchFilter {
  const words = splitOr(value).map((alternative) => {
    const folded = foldText(alternative);
    if (!/[\p{L}\p{N}]/u.test(folded)) throw invalid(ctx, 'give at least one word (letters or digits)');
    return truncateValue(folded);
  });
  return (bind) =>
    `exists (select 1 from search_text s where s.type = resource.type and s.id = resource.id and s.code = ${bind(ctx.parameter.code)}
       and (${words.map((word) => `s.words @@ plainto_tsquery('simple', ${bind(word)})`).join(' or ')}))`;
}

/** Location `near=[latitude]|[longitude]|[distance]|[units]` (src/search/near.ts); commas OR values. */
function nearFilter(ctx: Context, value: string): SearchFilter {
  const conditions = splitOr(value).map((alternative) => {
    const near = parseNear(alternative);
    if ('error' in near) throw invalid(ctx, `"${alternative.slice(0, 80)}": ${near.error}`);
    return nearCondition(near);
  });
  return (bind) =>
    `exists (select 1 from search_position s where s.type = resource.type and s.id = resource.id and s.code = ${bind(ctx.parameter.code)}
       and (${or(conditions, bind)}))`;
}

/** The form the index keeps a composite's first part under (src/search/extract.ts): token forms, or a reference's. */
function compositeForm(ctx: Context, first: string): string {
  if (ctx.parameter.composite!.first.type === 'token') {
    const parts = splitEscaped(first, '|');
    if (parts.length > 2 || parts.every((part) => part === '')) throw invalid(ctx, `"${first.slice(0, 80)}": the part before $ is not [system]|[code]`);
    return parts.map(escapeTokenPart).join('|');
  }
  const reference = first.replace(/\\(.)/g, '$1');
  if (reference === '') throw invalid(ctx, 'the part before $ must be a reference');
  // A URL on this server is the same reference as the relative one; the index keeps relative ones as `Type/id`, `id`.
  const relative = reference.startsWith(`${ctx.baseUrl}/`) ? reference.slice(ctx.baseUrl.length + 1) : reference;
  const typed = /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(relative);
  if (typed) return `${typed[1]}/${typed[2]}`;
  if (ID_PATTERN.test(relative) || /^[a-z][a-z0-9+.-]*:/i.test(relative)) return escapeTokenPart(relative);
  throw invalid(ctx, `"${reference.slice(0, 80)}" is not a reference: expected [type]/[id], [id] or a URL`);
}

/** Splits at the first `count - 1` unescaped `$`: the last part keeps any others, for its own parser to refuse. */
function splitParts(value: string, count: number): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < value.length && parts.length < count - 1; i++) {
    if (value[i] === '\\') i++;
    else if (value[i] === '$') {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  return [...parts, value.slice(start)];
}

/**
 * A composite value `first$second` (R4 §3.1.1.4.12), or `first$low$high` for two numbers: the index keeps one
 * row per form of the first part under the code `parameter$form` (src/search/extract.ts), so the first part is
 * matched by the row's code, the others by the row's value, all in the same element.
 */
function compositeFilter(ctx: Context, value: string): SearchFilter {
  const { first, second, third } = ctx.parameter.composite!;
  const expected = third ? `[${first.type}]$[number]$[number]` : `[${first.type}]$[${second.type}]`;
  const alternatives = splitOr(value).map((alternative) => {
    const parts = splitParts(alternative, third ? 3 : 2);
    if (parts.length !== (third ? 3 : 2)) throw invalid(ctx, `"${alternative.slice(0, 80)}" is not a composite value: expected ${expected}`);
    const code = truncateValue(`${ctx.parameter.code}$${compositeForm(ctx, parts[0])}`);
    const part: Context = { ...ctx, parameter: { ...ctx.parameter, type: second.type, code }, modifier: undefined };
    if (!third) return { code, condition: VALUE_CONDITIONS[second.type](part, parts[1]) };
    // The start is the row's low, the end its high: each a point compared with its own number.
    const start = quantityCondition(part, parts[1], 's.low', 's.low');
    const end = quantityCondition(part, parts[2], 's.high', 's.high');
    return { code, condition: (bind: Bind) => `(${start(bind)} and ${end(bind)})` };
  });
  return (bind) =>
    `exists (select 1 from ${TABLES[second.type]} s where s.type = resource.type and s.id = resource.id and (${alternatives
      .map(({ code, condition }) => `(s.code = ${bind(code)} and ${condition(bind)})`)
      .join(' or ')}))`;
}

function checkModifier(name: string, parameter: SearchParameter, modifier: string | undefined) {
  if (modifier === undefined) return;
  const allowed = parameter.column || parameter.special ? [] : [...MODIFIERS[parameter.type]];
  const typeModifier = parameter.type === 'reference' && RESOURCE_TYPES.has(modifier) && (parameter.targets.length === 0 || parameter.targets.includes(modifier));
  if (!allowed.includes(modifier) && !typeModifier) {
    const listed = parameter.type === 'reference' && !parameter.column ? [...allowed, '[type]'] : allowed;
    throw badRequest(
      `Search parameter ${parameter.code} does not support the modifier :${modifier.slice(0, 40)}` +
        (listed.length ? `; supported: ${listed.map((m) => `:${m}`).join(', ')}` : '; it takes no modifier'),
      'not-supported',
      [name],
    );
  }
}

/**
 * Each occurrence of a parameter is a join the store must plan, and the embedded store runs in the server's
 * own thread: a few hundred occurrences would hold every other request for seconds (CWE-400). Comma
 * alternatives are cheaper, and bounded more loosely. A chain or `_has` is one more join per link: bounded too.
 */
export const MAX_SEARCH_OCCURRENCES = 16;
export const MAX_SEARCH_ALTERNATIVES = 500;
export const MAX_CHAIN_DEPTH = 3;

function checkSearchCost(params: [name: string, values: string[]][]): void {
  const values = params.flatMap(([, occurrences]) => occurrences);
  if (values.length > MAX_SEARCH_OCCURRENCES) {
    throw new FhirError(400, 'too-costly', `A search may have at most ${MAX_SEARCH_OCCURRENCES} parameters, this one has ${values.length}`);
  }
  const alternatives = values.reduce((sum, value) => sum + value.split(',').length, 0);
  if (alternatives > MAX_SEARCH_ALTERNATIVES) {
    throw new FhirError(400, 'too-costly', `A search may have at most ${MAX_SEARCH_ALTERNATIVES} comma-separated values in all, this one has ${alternatives}`);
  }
}

/** A parameter the type does not have: refused, or with `Prefer: handling=lenient` ignored and reported. */
export class UnknownSearchParameter extends FhirError {
  constructor(readonly parameterName: string, message: string) {
    super(400, 'not-supported', message, {}, [parameterName]);
  }
}

export interface SearchOptions {
  /**
   * The caller's visibility of `type` as SQL (null: all of it), applied to the resources a chain or `_has`
   * looks into, so that neither reveals what the caller may not see. Without it, the whole store.
   */
  visibility?: (type: string) => SearchFilter | null;
  /** Called with each unknown parameter instead of refusing it (FHIR R4 §3.1.1.2, `Prefer: handling=lenient`). */
  onUnknown?: (name: string) => void;
}

interface Scope {
  baseUrl: string;
  options: SearchOptions;
  /** Names supported for the top-level type, for the error message. */
  resultParameters: readonly string[];
}

/** Builds the filter of one occurrence of `name` on `type`, from its value. */
type OccurrenceBuilder = (value: string) => SearchFilter;

const TYPE_NAME = /^[A-Z][A-Za-z]{0,63}$/;

function unknownParameter(type: string, name: string, scope: Scope, depth: number, why = ''): UnknownSearchParameter {
  const supported = [...searchParametersOf(type).keys(), ...(depth === 0 ? scope.resultParameters : [])].join(', ');
  return new UnknownSearchParameter(name, `Unsupported search parameter "${name.slice(0, 64)}" for ${type}${why}; supported: ${supported}`);
}

/** The resources of `type` meeting `inner` (with `resource` bound to them), visible to the caller, as a subquery of ids. */
function visibleIds(type: string, inner: SearchFilter, scope: Scope): (bind: Bind) => string {
  const visibility = scope.options.visibility?.(type) ?? null;
  return (bind) =>
    `select resource.id from resource where resource.type = ${bind(type)} and not resource.deleted and (${inner(bind)})` +
    (visibility ? ` and (${visibility(bind)})` : '');
}

/**
 * Reverse chaining `_has:Type:reference:rest` (FHIR R4 §3.1.1.4.11): resources that a `Type` meeting `rest`
 * points at through `reference`. `rest` may itself be a `_has` or a chain.
 */
function reverseChain(type: string, name: string, scope: Scope, depth: number): OccurrenceBuilder {
  const [, sourceType, code, ...restParts] = name.split(':');
  const rest = restParts.join(':');
  if (!sourceType || !code || !rest || !TYPE_NAME.test(sourceType) || !RESOURCE_TYPES.has(sourceType)) {
    throw badRequest(`"${name.slice(0, 80)}" is not _has:[type]:[reference parameter]:[parameter]`, 'value', [name]);
  }
  const reference = searchParametersOf(sourceType).get(code);
  if (reference?.type !== 'reference' || (reference.targets.length > 0 && !reference.targets.includes(type))) {
    throw badRequest(`_has: ${sourceType}.${code.slice(0, 64)} is not a reference parameter that may point at ${type}`, 'value', [name]);
  }
  const inner = parameterBuilder(sourceType, rest, scope, depth + 1);
  if (keptAsKeys(sourceType)) {
    // The matching sources' keys naming a `type`, less their prefix: the targets' ids.
    const prefix = typedReferencePrefix(code, type);
    return (value) => {
      const ids = visibleIds(sourceType, inner(value), scope);
      return (bind) =>
        `resource.id in (select substr(k, ${prefix.length + 1}) from resource source, unnest(source.index_keys) k
           where source.type = ${bind(sourceType)} and source.id in (${ids(bind)}) and starts_with(k, ${bind(prefix)}))`;
    };
  }
  // From the matching sources to the index rows naming their targets, then to the targets (never a walk of `type`).
  return (value) => {
    const ids = visibleIds(sourceType, inner(value), scope);
    return (bind) =>
      `resource.id in (select s.target_id from search_reference s
         where s.type = ${bind(sourceType)} and s.code = ${bind(code)} and s.target_type = ${bind(type)}
           and (s.url is null or s.url = ${bind(`${scope.baseUrl}/${type}/`)} || s.target_id)
           and s.id in (${ids(bind)}))`;
  };
}

/**
 * A chain `reference[:Type].rest` (FHIR R4 §3.1.1.4.10): resources pointing through `reference` at a resource
 * meeting `rest`. Without a type, any target type that has the chained parameter.
 */
function chain(type: string, name: string, head: string, rest: string, scope: Scope, depth: number): OccurrenceBuilder {
  const [code, modifier, ...extra] = head.split(':');
  const reference = searchParametersOf(type).get(code);
  if (!reference || extra.length > 0) throw unknownParameter(type, name, scope, depth);
  if (reference.type !== 'reference') throw badRequest(`Search parameter ${code}: only a reference parameter can be chained`, 'value', [name]);
  if (modifier !== undefined && (!RESOURCE_TYPES.has(modifier) || (reference.targets.length > 0 && !reference.targets.includes(modifier)))) {
    throw badRequest(`Search parameter ${code}: :${modifier.slice(0, 64)} is not one of its target types`, 'value', [name]);
  }
  const restCode = rest.split(/[.:]/)[0];
  const candidates = modifier !== undefined ? [modifier] : reference.targets.filter((target) => restCode === '_has' || searchParametersOf(target).has(restCode));
  if (candidates.length === 0) {
    throw badRequest(`Search parameter ${name.slice(0, 80)}: no target type of ${code} has the parameter ${restCode.slice(0, 64)}; name one with ${code}:[type]`, 'value', [name]);
  }
  const inners = candidates.map((target) => [target, parameterBuilder(target, rest, scope, depth + 1)] as const);
  if (keptAsKeys(type)) {
    // The keys that would name the matching targets, probed in the GIN index.
    return (value) => (bind) => {
      const keys = inners.map(([target, inner]) => `select ${bind(typedReferencePrefix(code, target))} || target.id from (${visibleIds(target, inner(value), scope)(bind)}) target`);
      return holdsAnyKeyOf(type, keys.join(' union all '));
    };
  }
  return (value) => {
    const alternatives = inners.map(([target, inner]) => {
      const ids = visibleIds(target, inner(value), scope);
      return (bind: Bind) =>
        `(s.target_type = ${bind(target)} and s.target_id in (${ids(bind)})
          and (s.url is null or s.url = ${bind(`${scope.baseUrl}/${target}/`)} || s.target_id))`;
    });
    // From the matching targets to the index rows that name them, then to the resources of `type` holding them.
    return (bind) =>
      `resource.id in (select s.id from search_reference s where s.type = ${bind(type)} and s.code = ${bind(code)}
         and (${alternatives.map((alternative) => alternative(bind)).join(' or ')}))`;
  };
}

/** How to build each occurrence of the parameter `name` (with its modifier, chain or `_has`) on `type`. */
function parameterBuilder(type: string, name: string, scope: Scope, depth: number): OccurrenceBuilder {
  if (name.startsWith('_has:') || name.includes('.')) {
    if (depth >= MAX_CHAIN_DEPTH) {
      throw new FhirError(400, 'too-costly', `A chain or _has may have at most ${MAX_CHAIN_DEPTH} links: "${name.slice(0, 80)}"`, {}, [name]);
    }
    if (name.startsWith('_has:')) return reverseChain(type, name, scope, depth);
    const dot = name.indexOf('.');
    return chain(type, name, name.slice(0, dot), name.slice(dot + 1), scope, depth);
  }
  const [code, modifier, ...rest] = name.split(':');
  const parameter = searchParametersOf(type).get(code);
  if (!parameter || rest.length > 0) throw unknownParameter(type, name, scope, depth);
  checkModifier(name, parameter, modifier);
  if (!indexedFor(parameter, modifier)) throw unknownParameter(type, name, scope, depth, ` (${code} is not indexed for :${modifier})`);
  const ctx: Context = { type, name, parameter, modifier, baseUrl: scope.baseUrl };
  if (parameter.composite) return (value) => compositeFilter(ctx, value);
  if (parameter.special === 'near') return (value) => nearFilter(ctx, value);
  if (parameter.special) return (value) => fullTextFilter(ctx, value);
  return (value) => occurrenceFilter(ctx, value);
}

/**
 * The filters a search's parameters ask for. `params` are the request's search parameters, without the
 * result parameters (`_count`, `_sort`, ...) whose names `resultParameters` lists for error messages.
 */
export function searchFilters(
  type: string,
  params: [name: string, values: string[]][],
  baseUrl: string,
  resultParameters: readonly string[],
  options: SearchOptions = {},
): SearchFilter[] {
  checkSearchCost(params);
  const scope: Scope = { baseUrl, options, resultParameters };
  const filters: SearchFilter[] = [];
  for (const [name, values] of params) {
    let build: OccurrenceBuilder;
    try {
      build = parameterBuilder(type, name, scope, 0);
    } catch (error) {
      if (error instanceof UnknownSearchParameter && options.onUnknown) {
        options.onUnknown(name);
        continue;
      }
      throw error;
    }
    for (const value of values) filters.push(build(value));
  }
  return filters;
}
