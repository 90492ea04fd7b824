// The Patient compartment (FHIR R4 CompartmentDefinition "patient"): the Patient itself, and every resource
// that one of its type's compartment parameters (Observation.subject, Encounter.patient, ...) points at that
// Patient with. SMART `patient/` scopes confine a token to it.
import type { Resource, ResourceStore, SearchFilter } from '../store/resource-store.ts';
import { patientCompartmentParameters } from './compartment-definition.ts';
import { referencesThrough } from './extract.ts';
import { holdsAnyKey, keptAsKeys, referenceKeys } from './index-keys.ts';

/** Restricts a search on `type` to the compartment of Patient/`patientId`; no match for types outside it. */
export function patientCompartmentFilter(type: string, patientId: string, baseUrl: string): SearchFilter {
  const codes = patientCompartmentParameters().get(type) ?? [];
  return (bind) => {
    const conditions: string[] = [];
    if (type === 'Patient') conditions.push(`resource.id = ${bind(patientId)}`);
    if (codes.length > 0 && keptAsKeys(type)) {
      conditions.push(holdsAnyKey(type, codes.map((code) => referenceKeys.typed(code, 'Patient', patientId)), bind));
    } else if (codes.length > 0) {
      conditions.push(
        `exists (select 1 from search_reference s where s.type = resource.type and s.id = resource.id
           and s.code in (${codes.map((code) => bind(code)).join(', ')})
           and s.target_type = 'Patient' and s.target_id = ${bind(patientId)}
           and (s.url is null or s.url = ${bind(`${baseUrl}/Patient/${patientId}`)}))`,
      );
    }
    return conditions.length > 0 ? conditions.join(' or ') : 'false';
  };
}

/** Whether `resource` is in the compartment of Patient/`patientId`, from its content alone (no store read). */
export function inPatientCompartment(resource: Resource, patientId: string, baseUrl: string): boolean {
  if (resource.resourceType === 'Patient' && resource.id === patientId) return true;
  const codes = patientCompartmentParameters().get(resource.resourceType) ?? [];
  return referencesThrough(resource, codes).some(
    (ref) =>
      ref.target_type === 'Patient' && ref.target_id === patientId && (ref.url === null || ref.url === `${baseUrl}/Patient/${patientId}`),
  );
}

/** Whether the current version of type/id exists, is not deleted, and matches `filter`: the search's own test. */
export async function storedMatches(store: ResourceStore, type: string, id: string, filter: SearchFilter): Promise<boolean> {
  const { resources } = await store.search(type, {
    count: 1,
    offset: 0,
    sort: 'id',
    total: false,
    filters: [(bind) => `resource.id = ${bind(id)}`, filter],
  });
  return resources.length > 0;
}

/** Whether the current version of type/id exists, is not deleted, and is in the compartment of Patient/`patientId`. */
export async function storedInPatientCompartment(
  store: ResourceStore,
  type: string,
  id: string,
  patientId: string,
  baseUrl: string,
): Promise<boolean> {
  return storedMatches(store, type, id, patientCompartmentFilter(type, patientId, baseUrl));
}
