// What $everything and $export share: which types a patient's record spans, and the conditions (_since, a
// patient's compartment, a population's) they read by, as SQL conditions on the `resource` table.
import { badRequest } from '../fhir/outcome.ts';
import { FHIR_R4_TYPES } from '../fhir/resource-types.ts';
import { patientCompartmentParameters } from '../search/compartment-definition.ts';
import { patientCompartmentFilter } from '../search/compartment.ts';
import { holdsAnyKey, holdsKeyStarting, keptAsKeys, referenceKeys, typedReferencePrefix } from '../search/index-keys.ts';
import type { SearchFilter } from '../store/resource-store.ts';

/** FHIR R4 instant (§2.24.0.1): a time to the second, with its zone. */
const INSTANT = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d{1,9})?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$/;

/** An instant parameter (`_since`) as an ISO string; 400 naming the parameter otherwise. */
export function instantParameter(name: string, raw: string): string {
  const time = Date.parse(raw);
  if (!INSTANT.test(raw) || Number.isNaN(time)) {
    throw badRequest(`${name} must be a FHIR instant such as 2024-01-31T12:00:00Z, got "${raw.slice(0, 40)}"`, 'value', [name]);
  }
  return new Date(time).toISOString();
}

/** The types of the Patient compartment, Patient first: what a patient's record may hold. */
export function patientRecordTypes(): string[] {
  const types = [...patientCompartmentParameters().keys()].filter((type) => type !== 'Patient').sort();
  return ['Patient', ...types];
}

/**
 * The audit trail (AuditEvents name a patient, so they are in the Patient compartment) is not part of a record:
 * it is exported, or answered by $everything, only when `_type` names it.
 */
export const withoutAuditTrail = (types: readonly string[]): string[] => types.filter((type) => type !== 'AuditEvent');

/** Every FHIR R4 type; the IAM types (Client, User, AccessPolicy...) are never exported. */
export const EXPORTABLE_TYPES: readonly string[] = [...FHIR_R4_TYPES].sort();

/** Versions written after `since` (exclusive), and, when given, no later than `until`. */
export const updatedBetween = (since: string | undefined, until?: string): SearchFilter => (bind) =>
  [
    ...(since === undefined ? [] : [`resource.last_updated > ${bind(since)}::text::timestamptz`]),
    ...(until === undefined ? [] : [`resource.last_updated <= ${bind(until)}::text::timestamptz`]),
  ].join(' and ') || 'true';

/** Past the key `afterId` in id order: the next chunk of a keyset walk through one type. */
export const idAfter = (afterId: string | undefined): SearchFilter => (bind) => (afterId === undefined ? 'true' : `resource.id > ${bind(afterId)}`);

/** In the compartment of one of these patients; null: of any patient at all. */
export function patientsFilter(type: string, patients: readonly string[] | null, baseUrl: string): SearchFilter {
  if (patients !== null && patients.length === 1) return patientCompartmentFilter(type, patients[0], baseUrl);
  const codes = patientCompartmentParameters().get(type) ?? [];
  return (bind) => {
    const idList = patients === null ? '' : `(${patients.map((id) => bind(id)).join(', ') || 'null'})`;
    const conditions: string[] = [];
    if (type === 'Patient') conditions.push(patients === null ? 'true' : `resource.id in ${idList}`);
    if (codes.length > 0 && keptAsKeys(type)) {
      conditions.push(
        patients === null
          ? codes.map((code) => holdsKeyStarting(typedReferencePrefix(code, 'Patient'), bind)).join(' or ')
          : holdsAnyKey(type, codes.flatMap((code) => patients.map((id) => referenceKeys.typed(code, 'Patient', id))), bind),
      );
    } else if (codes.length > 0) {
      conditions.push(
        `exists (select 1 from search_reference s where s.type = resource.type and s.id = resource.id
           and s.code in (${codes.map((code) => bind(code)).join(', ')}) and s.target_type = 'Patient'
           ${patients === null ? '' : `and s.target_id in ${idList}`}
           and (s.url is null or s.url = ${bind(`${baseUrl}/Patient/`)} || s.target_id))`,
      );
    }
    return conditions.length > 0 ? conditions.join(' or ') : 'false';
  };
}
