// What a resource says for each of its search parameters, read with FHIRPath and turned into index rows:
// normalized strings, tokens, references and date ranges.
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import type { Resource } from '../store/resource-store.ts';
import { parseDateRange, periodRange, type DateRange } from './date-range.ts';
import { positionRow, type PositionRow } from './near.ts';
import { indexedFor, searchParametersOf, type SearchParameter, type SearchPath } from './parameters.ts';
import { textRowsOf, type TextRow } from './text.ts';
import { escapeTokenPart, normalizeString, parseReference, truncateValue, type ParsedReference } from './values.ts';

export interface StringRow { code: string; value: string; raw: string }
export interface TokenRow { code: string; system: string | null; value: string }
export interface ReferenceRow { code: string; target_type: string | null; target_id: string | null; url: string | null }
export interface DateRow extends DateRange { code: string }
/** `low` and `high` are decimal strings, or ±Infinity for an open end of a Range. */
export interface QuantityRow { code: string; system: string | null; unit_code: string | null; unit: string | null; low: string; high: string }

export interface IndexRows {
  string: StringRow[];
  token: TokenRow[];
  reference: ReferenceRow[];
  date: DateRow[];
  quantity: QuantityRow[];
  /** Full-text words (`_text`, `_content`), src/search/text.ts. */
  text: TextRow[];
  /** Points (Location.near), src/search/near.ts. */
  position: PositionRow[];
}

export const noIndexRows = (): IndexRows => ({ string: [], token: [], reference: [], date: [], quantity: [], text: [], position: [] });

type Evaluator = (resource: unknown) => unknown[];
const compiled = new Map<string, Evaluator>();

/** Each value the path selects, with its FHIR type name (`dateTime`, `CodeableConcept`, `String`, ...). */
function evaluate(resource: Resource, path: SearchPath): { type: string; value: unknown }[] {
  let evaluator = compiled.get(path.expression);
  if (!evaluator) {
    try {
      evaluator = fhirpath.compile(path.expression, r4, { resolveInternalTypes: false }) as Evaluator;
    } catch {
      // A definition the engine cannot compile indexes nothing, rather than failing every write of the type.
      evaluator = () => [];
    }
    compiled.set(path.expression, evaluator);
  }
  let nodes: unknown[];
  try {
    nodes = evaluator(resource);
  } catch {
    // Resources are stored without schema validation: content FHIRPath cannot read is left out of the
    // index rather than failing the write.
    return [];
  }
  const types = fhirpath.types(nodes);
  const values = fhirpath.resolveInternalTypes(nodes) as unknown[];
  return values.map((value, index) => ({ type: types[index].replace(/^(FHIR|System)\./, ''), value }));
}

const STRING_TYPES = new Set(['string', 'String', 'markdown', 'code', 'id', 'uri', 'url', 'canonical', 'oid', 'uuid']);
const DATE_TYPES = new Set(['date', 'dateTime', 'instant', 'Date', 'DateTime']);
type Json = Record<string, unknown>;

const text = (value: unknown): string[] => (typeof value === 'string' && value !== '' ? [value] : []);
const texts = (value: unknown): string[] => (Array.isArray(value) ? value.flatMap(text) : text(value));

function stringsOf(type: string, value: unknown): string[] {
  if (STRING_TYPES.has(type)) return text(value);
  const json = value as Json;
  if (type === 'HumanName') return [json.family, json.given, json.prefix, json.suffix, json.text].flatMap(texts);
  if (type === 'Address') {
    return [json.line, json.city, json.district, json.state, json.postalCode, json.country, json.text].flatMap(texts);
  }
  return [];
}

function tokensOf(type: string, value: unknown): { system: string | null; value: string }[] {
  const coding = (c: Json) => (typeof c.code === 'string' ? [{ system: typeof c.system === 'string' ? c.system : null, value: c.code }] : []);
  const json = value as Json;
  switch (type) {
    case 'Coding':
      return coding(json);
    case 'CodeableConcept':
      return Array.isArray(json.coding) ? (json.coding as Json[]).flatMap(coding) : [];
    case 'Identifier':
      return typeof json.value === 'string' ? [{ system: typeof json.system === 'string' ? json.system : null, value: json.value }] : [];
    case 'ContactPoint':
      return text(json.value).map((v) => ({ system: null, value: v }));
    case 'boolean':
    case 'Boolean':
      return typeof value === 'boolean' ? [{ system: null, value: String(value) }] : [];
    default:
      return STRING_TYPES.has(type) ? text(value).map((v) => ({ system: null, value: v })) : [];
  }
}

// The rows behind three modifiers, kept under the parameter's code and the modifier's name in the string and
// token tables: `:text` (R4 §3.1.1.5.6) the text and displays of a code, `:of-type` (§3.1.1.5.10) an
// identifier's type and value, `:identifier` (§3.1.1.5.11) the logical identifier of a reference.

function tokenTextsOf(type: string, value: unknown): string[] {
  const json = value as Json;
  switch (type) {
    case 'CodeableConcept':
      return [...text(json.text), ...(Array.isArray(json.coding) ? (json.coding as Json[]).flatMap((c) => text(c.display)) : [])];
    case 'Coding':
      return text(json.display);
    case 'Identifier':
      return text((json.type as Json | undefined)?.text);
    default:
      return [];
  }
}

function identifierTypesOf(type: string, value: unknown): { system: string | null; value: string }[] {
  if (type !== 'Identifier') return [];
  const json = value as Json;
  const codings = ((json.type as Json | undefined)?.coding ?? []) as Json[];
  if (typeof json.value !== 'string' || !Array.isArray(codings)) return [];
  return codings
    .filter((c) => typeof c.code === 'string')
    .map((c) => ({ system: typeof c.system === 'string' ? c.system : null, value: truncateValue(`${c.code as string}|${json.value as string}`) }));
}

function referenceIdentifiersOf(type: string, value: unknown): { system: string | null; value: string }[] {
  if (type !== 'Reference') return [];
  const identifier = (value as Json).identifier;
  return identifier && typeof identifier === 'object' ? tokensOf('Identifier', identifier).map((t) => ({ ...t, value: truncateValue(t.value) })) : [];
}

function datesOf(type: string, value: unknown): DateRange[] {
  if (DATE_TYPES.has(type)) return typeof value === 'string' ? [parseDateRange(value)].filter((r) => r !== null) : [];
  const json = value as Json;
  if (type === 'Period') {
    const start = typeof json.start === 'string' ? json.start : undefined;
    const end = typeof json.end === 'string' ? json.end : undefined;
    return [periodRange(start, end)].filter((r) => r !== null);
  }
  if (type === 'Timing') return texts(json.event).map(parseDateRange).filter((r) => r !== null);
  return [];
}

const QUANTITY_TYPES = new Set(['Quantity', 'Age', 'Duration', 'Count', 'Distance', 'SimpleQuantity', 'MoneyQuantity']);

function quantitiesOf(type: string, value: unknown): Omit<QuantityRow, 'code'>[] {
  const json = value as Json;
  const unitOf = (q: Json) => ({
    system: typeof q.system === 'string' ? q.system : null,
    unit_code: typeof q.code === 'string' ? q.code : null,
    unit: typeof q.unit === 'string' ? q.unit : null,
  });
  if (QUANTITY_TYPES.has(type)) {
    if (typeof json.value !== 'number' || !Number.isFinite(json.value)) return [];
    return [{ ...unitOf(json), low: String(json.value), high: String(json.value) }];
  }
  if (type === 'Range') {
    const low = (json.low ?? {}) as Json;
    const high = (json.high ?? {}) as Json;
    const bound = (q: Json, open: string) => (typeof q.value === 'number' && Number.isFinite(q.value) ? String(q.value) : open);
    if (bound(low, '') === '' && bound(high, '') === '') return [];
    return [{ ...unitOf(json.low ? low : high), low: bound(low, '-Infinity'), high: bound(high, 'Infinity') }];
  }
  return [];
}

function referencesOf(type: string, value: unknown): ParsedReference[] {
  if (type === 'Reference') {
    const reference = (value as Json).reference;
    return typeof reference === 'string' ? [parseReference(reference)].filter((r) => r !== null) : [];
  }
  // canonical and uri values name a resource by URL only
  if (STRING_TYPES.has(type) && typeof value === 'string' && value !== '') return [{ targetType: null, targetId: null, url: value }];
  return [];
}

function addRows(rows: IndexRows, parameter: SearchParameter, path: SearchPath, found: { type: string; value: unknown }[]) {
  const { code } = parameter;
  for (const { type, value } of found) {
    switch (parameter.type) {
      case 'string':
        for (const raw of stringsOf(type, value)) rows.string.push({ code, value: normalizeString(raw), raw });
        break;
      case 'composite':
      case 'special':
        break;
      case 'token':
        for (const token of tokensOf(type, value)) rows.token.push({ code, system: token.system, value: truncateValue(token.value) });
        if (indexedFor(parameter, 'text')) for (const raw of tokenTextsOf(type, value)) rows.string.push({ code: `${code}:text`, value: normalizeString(raw), raw });
        if (indexedFor(parameter, 'of-type')) for (const token of identifierTypesOf(type, value)) rows.token.push({ code: `${code}:of-type`, ...token });
        break;
      case 'uri':
        for (const uri of text(value)) rows.token.push({ code, system: null, value: truncateValue(uri) });
        break;
      case 'date':
        for (const range of datesOf(type, value)) rows.date.push({ code, ...range });
        break;
      case 'quantity':
        for (const quantity of quantitiesOf(type, value)) rows.quantity.push({ code, ...quantity });
        break;
      case 'number':
        // A number is a quantity without a unit: one point in the quantity index.
        if (typeof value === 'number' && Number.isFinite(value)) {
          rows.quantity.push({ code, system: null, unit_code: null, unit: null, low: String(value), high: String(value) });
        }
        break;
      case 'reference':
        if (indexedFor(parameter, 'identifier')) for (const token of referenceIdentifiersOf(type, value)) rows.token.push({ code: `${code}:identifier`, ...token });
        for (const ref of referencesOf(type, value)) {
          if (path.referenceType && ref.targetType !== path.referenceType) continue;
          rows.reference.push({ code, target_type: ref.targetType, target_id: ref.targetId, url: ref.url && truncateValue(ref.url) });
        }
        break;
    }
  }
}

/** Elements of one composite parameter indexed per resource, at most: each is a few FHIRPath evaluations. */
const MAX_COMPOSITE_ELEMENTS = 50;

/**
 * The forms a search may name a token by (R4 §3.1.1.4.11): `code`, `system|code` (`|code` without a system)
 * and `system|`. A composite row is kept once per form, so that a search names its row by equality.
 */
function tokenForms(token: { system: string | null; value: string }): string[] {
  const value = escapeTokenPart(token.value);
  if (token.system === null) return [value, `|${value}`];
  const system = escapeTokenPart(token.system);
  return [value, `${system}|${value}`, `${system}|`];
}

/** The forms a search may name a reference by, as the first part of a composite: `Type/id` and `id`, or the URL. */
export function referenceForms(reference: ParsedReference): string[] {
  if (reference.url !== null) return [escapeTokenPart(reference.url)];
  return reference.targetType && reference.targetId ? [`${reference.targetType}/${reference.targetId}`, reference.targetId] : [];
}

/**
 * A composite parameter (R4 §3.1.1.4.12) joins a token or reference and a second value found in the same element
 * (the same Observation.component): one row of the second value's kind per form of the first, under the code
 * `parameter$form`, so the pair is matched in one row. Two numbers after the first (MolecularSequence's
 * coordinates) are one quantity row, the first number its low, the second its high.
 */
function addCompositeRows(rows: IndexRows, resource: Resource, parameter: SearchParameter) {
  const { first, second, third } = parameter.composite!;
  for (const path of parameter.paths) {
    const count = Math.min(evaluate(resource, path).length, MAX_COMPOSITE_ELEMENTS);
    for (let index = 0; index < count; index++) {
      const at = (expression: string) =>
        evaluate(resource, {
          expression: expression.startsWith('%resource.')
            ? `${resource.resourceType}.${expression.slice('%resource.'.length)}`
            : `(${path.expression})[${index}].${expression}`,
        });
      const forms = first.expressions.flatMap((expression) =>
        at(expression).flatMap(({ type, value }) =>
          first.type === 'token' ? tokensOf(type, value).flatMap(tokenForms) : referencesOf(type, value).flatMap(referenceForms),
        ),
      );
      if (forms.length === 0) continue;
      const part = noIndexRows();
      if (third) {
        const numbers = (expressions: string[]) =>
          expressions.flatMap(at).map(({ value }) => value).filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
        for (const low of numbers(second.expressions)) {
          for (const high of numbers(third.expressions)) {
            part.quantity.push({ code: parameter.code, system: null, unit_code: null, unit: null, low: String(low), high: String(high) });
          }
        }
      } else {
        const pseudo: SearchParameter = { ...parameter, type: second.type, composite: undefined };
        for (const expression of second.expressions) addRows(part, pseudo, { expression }, at(expression));
      }
      for (const form of forms) {
        const code = truncateValue(`${parameter.code}$${form}`);
        // Only the second value's own rows, not those its kind adds for modifiers (`code:text`, ...).
        const own = <T extends { code: string }>(found: T[]) => found.filter((row) => row.code === parameter.code).map((row) => ({ ...row, code }));
        rows.string.push(...own(part.string));
        rows.token.push(...own(part.token));
        rows.date.push(...own(part.date));
        rows.quantity.push(...own(part.quantity));
      }
    }
  }
}

function unique<T>(rows: T[]): T[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    const key = JSON.stringify(row);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The index rows of `resource`, one per value of each of its type's search parameters. */
export function extractIndexRows(resource: Resource): IndexRows {
  // FHIRPath may annotate what it evaluates; the stored resource must stay as written.
  const copy = structuredClone(resource);
  const rows = noIndexRows();
  const parameters = searchParametersOf(resource.resourceType);
  for (const parameter of parameters.values()) {
    if (parameter.composite) addCompositeRows(rows, copy, parameter);
    else if (parameter.special === 'near') {
      for (const path of parameter.paths) {
        for (const { value } of evaluate(copy, path)) {
          const row = positionRow(parameter.code, value);
          if (row) rows.position.push(row);
        }
      }
    } else if (!parameter.special) for (const path of parameter.paths) addRows(rows, parameter, path, evaluate(copy, path));
  }
  return {
    string: unique(rows.string),
    token: unique(rows.token),
    reference: unique(rows.reference),
    date: unique(rows.date),
    quantity: unique(rows.quantity),
    text: textRowsOf(resource, { text: parameters.has('_text'), content: parameters.has('_content') }),
    position: unique(rows.position),
  };
}

/** `Type.element.element`: a path of plain element names, which a walk of the JSON reads as FHIRPath would. */
const PLAIN_PATH = /^([A-Z][A-Za-z]+)((?:\.[a-z][A-Za-z]*)+)$/;

/**
 * The values at a plain path of a reference parameter, read from the JSON without FHIRPath: each is a Reference
 * (an object) or a canonical or uri (a string), the only types a reference parameter's elements have. Null when
 * the path is not plain. The audit trail asks this of every resource a search returns (src/audit/patients.ts).
 */
function plainReferenceValues(resource: Resource, expression: string): { type: string; value: unknown }[] | null {
  const match = PLAIN_PATH.exec(expression);
  if (!match || match[1] !== resource.resourceType) return null;
  let values: unknown[] = [resource];
  for (const name of match[2].slice(1).split('.')) {
    values = values.flatMap((value) => {
      const next = value && typeof value === 'object' && !Array.isArray(value) ? (value as Json)[name] : undefined;
      return next === undefined || next === null ? [] : Array.isArray(next) ? next : [next];
    });
  }
  return values.map((value) => ({ type: typeof value === 'string' ? 'uri' : 'Reference', value }));
}

const plainTypes = new Map<string, { codes: readonly string[]; plain: boolean }>();

/**
 * Whether referencesThrough reads every path of these reference parameters of `type` from the JSON alone, with no
 * FHIRPath: then it costs less than remembering its answer would.
 */
export function referencesReadPlainly(type: string, codes: readonly string[]): boolean {
  const known = plainTypes.get(type);
  if (known?.codes === codes) return known.plain;
  const parameters = searchParametersOf(type);
  const plain = codes.every((code) => {
    const parameter = parameters.get(code);
    return parameter?.type !== 'reference' || parameter.paths.every((path) => PLAIN_PATH.exec(path.expression)?.[1] === type);
  });
  plainTypes.set(type, { codes, plain });
  return plain;
}

/** The references `resource` makes through the search parameters named in `codes`. */
export function referencesThrough(resource: Resource, codes: readonly string[]): ReferenceRow[] {
  const parameters = searchParametersOf(resource.resourceType);
  let copy: Resource | undefined;
  const rows = noIndexRows();
  for (const code of codes) {
    const parameter = parameters.get(code);
    if (parameter?.type !== 'reference') continue;
    for (const path of parameter.paths) {
      // FHIRPath only for the paths that need it, on a copy, as it may annotate what it evaluates.
      const found = plainReferenceValues(resource, path.expression) ?? evaluate((copy ??= structuredClone(resource)), path);
      addRows(rows, parameter, path, found);
    }
  }
  return rows.reference;
}
