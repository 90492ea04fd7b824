// Whether a resource is visible under a SMART visibility filter: in the patient's compartment (R4
// CompartmentDefinition "Patient", from the search module) and matching the scope's narrowing, which is
// written as search parameters (`patient/Observation.rs?category=...`) and so means what a search means.
import { inPatientCompartment, patientCompartmentFilter, storedMatches } from '../search/compartment.ts';
import { extractIndexRows } from '../search/extract.ts';
import { searchFilters } from '../search/query.ts';
import { searchParametersOf } from '../search/parameters.ts';
import type { Resource, ResourceStore, SearchFilter } from '../store/resource-store.ts';
import type { VisibilityFilter } from './enforce.ts';

const NOTHING: SearchFilter = () => 'false';

/** One narrowing constraint as SQL; a constraint this server cannot search by hides everything (fail closed). */
function constraintFilter(type: string, [name, value]: readonly [string, string], baseUrl: string): SearchFilter {
  try {
    return searchFilters(type, [[name, [value]]], baseUrl, [])[0] ?? NOTHING;
  } catch {
    return NOTHING;
  }
}

/** The SQL condition a search on `type` gets under these filters: a result must meet one of them. */
export function visibilitySearchFilter(type: string, filters: readonly VisibilityFilter[], baseUrl: string): SearchFilter {
  const alternatives = filters.map((filter) => [
    ...(filter.patient === undefined ? [] : [patientCompartmentFilter(type, filter.patient, baseUrl)]),
    ...filter.constraints.map((constraint) => constraintFilter(type, constraint, baseUrl)),
  ]);
  return (bind) =>
    alternatives
      .map((parts) => (parts.length === 0 ? 'true' : `(${parts.map((part) => `(${part(bind)})`).join(' and ')})`))
      .join(' or ') || 'false';
}

/** Whether the stored, current, not deleted type/id is visible under these filters: the search's own test. */
export async function storedVisible(
  store: ResourceStore,
  type: string,
  id: string,
  filters: readonly VisibilityFilter[],
  baseUrl: string,
): Promise<boolean> {
  return storedMatches(store, type, id, visibilitySearchFilter(type, filters, baseUrl));
}

/** FHIR token matching (R4 §3.1.1.4.11): `code`, `system|code`, `|code` (no system), `system|`. */
function tokenMatches(search: string, token: { system: string | null; value: string }): boolean {
  const bar = search.indexOf('|');
  if (bar < 0) return token.value === search;
  const system = search.slice(0, bar);
  const code = search.slice(bar + 1);
  if (system === '') return token.system === null && token.value === code;
  if (code === '') return token.system === system;
  return token.system === system && token.value === code;
}

/**
 * Every constraint holds for a resource not yet stored (the body of a create or update). Token parameters
 * are checked; any other kind of narrowing refuses the write rather than guess.
 */
export function matchesConstraints(resource: Resource, constraints: VisibilityFilter['constraints']): boolean {
  if (constraints.length === 0) return true;
  const parameters = searchParametersOf(resource.resourceType);
  const tokens = extractIndexRows(resource).token;
  return constraints.every(([name, value]) => {
    if (parameters.get(name)?.type !== 'token') return false;
    const alternatives = value.split(',');
    return tokens.some((token) => token.code === name && alternatives.some((alt) => tokenMatches(alt, token)));
  });
}

/** Whether a resource body is visible under the filters (null: no confinement). */
export function visibleUnder(resource: Resource, filters: readonly VisibilityFilter[] | null, baseUrl: string): boolean {
  if (filters === null) return true;
  return filters.some(
    (filter) =>
      (filter.patient === undefined || inPatientCompartment(resource, filter.patient, baseUrl)) &&
      matchesConstraints(resource, filter.constraints),
  );
}
