// Whether one resource is visible under a SMART visibility filter: in the patient's compartment (R4
// CompartmentDefinition "Patient") and matching the scope's narrowing constraints (token search semantics).
import type { Resource } from '../store/resource-store.ts';
import type { VisibilityFilter } from './enforce.ts';

type Json = Record<string, unknown>;

// The element paths behind the R4 Patient compartment parameters of the types SMART apps read.
// TODO(search merge): replace with the search branch's compartment definition and FHIRPath extraction.
const COMPARTMENT_PATHS: Record<string, string[][]> = {
  Patient: [['link', 'other']],
  Encounter: [['subject']],
  Observation: [['subject'], ['performer']],
  Condition: [['subject'], ['asserter']],
  MedicationRequest: [['subject']],
  AllergyIntolerance: [['patient'], ['recorder'], ['asserter']],
  Procedure: [['subject'], ['performer', 'actor']],
  Immunization: [['patient']],
  DiagnosticReport: [['subject']],
  DocumentReference: [['subject'], ['author']],
};

const TOKEN_PATHS: Record<string, string> = { category: 'category', code: 'code', status: 'status', 'clinical-status': 'clinicalStatus' };

function select(value: unknown, path: readonly string[]): unknown[] {
  let current: unknown[] = [value];
  for (const step of path) {
    current = current.flatMap((item) => {
      const next = item && typeof item === 'object' ? (item as Json)[step] : undefined;
      return Array.isArray(next) ? next : next === undefined ? [] : [next];
    });
  }
  return current;
}

/** True when `resource` belongs to Patient/`patientId`'s compartment. */
export function inPatientCompartment(resource: Resource, patientId: string): boolean {
  if (resource.resourceType === 'Patient' && resource.id === patientId) return true;
  const target = `Patient/${patientId}`;
  const paths = COMPARTMENT_PATHS[resource.resourceType] ?? [];
  return paths.some((path) =>
    select(resource, path).some((ref) => {
      const reference = (ref as Json | undefined)?.reference;
      return typeof reference === 'string' && (reference === target || reference.endsWith(`/${target}`));
    }),
  );
}

/** The types that have a Patient compartment membership at all. */
export function isPatientCompartmentType(type: string): boolean {
  return type === 'Patient' || type in COMPARTMENT_PATHS;
}

function tokens(resource: Resource, name: string): { system: string | null; code: string }[] {
  const path = TOKEN_PATHS[name];
  if (!path) return [];
  return select(resource, [path]).flatMap((value) => {
    if (typeof value === 'string') return [{ system: null, code: value }];
    const json = value as Json;
    const codings = Array.isArray(json?.coding) ? (json.coding as Json[]) : [json];
    return codings.filter((c) => typeof c?.code === 'string').map((c) => ({ system: typeof c.system === 'string' ? c.system : null, code: c.code as string }));
  });
}

/** FHIR token matching (R4 §3.1.1.4.11): `code`, `system|code`, `|code` (no system), `system|`. */
function tokenMatches(search: string, token: { system: string | null; code: string }): boolean {
  const bar = search.indexOf('|');
  if (bar < 0) return token.code === search;
  const system = search.slice(0, bar);
  const code = search.slice(bar + 1);
  if (system === '') return token.system === null && token.code === code;
  if (code === '') return token.system === system;
  return token.system === system && token.code === code;
}

/** Every constraint holds; an unknown parameter never holds, so a scope we cannot check grants nothing. */
export function matchesConstraints(resource: Resource, constraints: VisibilityFilter['constraints']): boolean {
  return constraints.every(([name, value]) => {
    const alternatives = value.split(',');
    return tokens(resource, name).some((token) => alternatives.some((alt) => tokenMatches(alt, token)));
  });
}

export function visibleUnder(resource: Resource, filters: readonly VisibilityFilter[] | null): boolean {
  if (filters === null) return true;
  return filters.some(
    (filter) =>
      (filter.patient === undefined || inPatientCompartment(resource, filter.patient)) && matchesConstraints(resource, filter.constraints),
  );
}
