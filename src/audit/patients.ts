// The Patients a resource concerns: the Patient itself, or those its type's Patient compartment parameters
// (R4 CompartmentDefinition "patient": Observation.subject, Encounter.patient, AuditEvent.entity...) point at.
import type { Resource } from '../fhir/resource.ts';
import { patientCompartmentParameters } from '../search/compartment-definition.ts';
import { referencesThrough } from '../search/extract.ts';

export function patientsOf(resource: Resource, baseUrl: string): string[] {
  if (resource.resourceType === 'Patient') return [resource.id];
  const codes = patientCompartmentParameters().get(resource.resourceType);
  if (!codes) return [];
  const local = `${baseUrl}/Patient/`;
  const ids = new Set<string>();
  for (const ref of referencesThrough(resource, codes)) {
    // A reference to another server's Patient is not one of ours.
    if (ref.target_type === 'Patient' && ref.target_id && (ref.url === null || ref.url.startsWith(local))) ids.add(ref.target_id);
  }
  return [...ids];
}
