// The confined store view, audited: every read, search, history and write a caller makes through it is an
// AuditEvent (src/audit/event.ts) naming the resource and the Patients it concerns. Reading here, and not in
// each handler, means every entry point that uses the view is audited, Bundle entries and pages included.
// A read that is only the first step of a write through the same view (crud.ts's commit) is not an event of
// its own: the write's event stands for both.
import { restEvent, type AuditEventResource, type Outcome, type RestInteraction } from '../audit/event.ts';
import { patientsOf } from '../audit/patients.ts';
import { currentAuditScope, recordAudit, requestQuery, unrecordAudit } from '../audit/scope.ts';
import { FhirError } from '../fhir/outcome.ts';
import { patientCompartmentParameters } from '../search/compartment-definition.ts';
import { referencesReadPlainly } from '../search/extract.ts';
import type { HistoryQuery, Resource, SearchQuery, SearchResult, Version } from '../store/resource-store.ts';

/**
 * What this wraps of the confined view (confined-resources.ts's ResourceView, named here by shape so the two
 * modules do not import each other); any other method of the view passes through as it is.
 */
interface AuditedMethods {
  read(type: string, id: string): Promise<Version | null>;
  find(type: string, id: string): Promise<Version | null>;
  vread(type: string, id: string, versionId: string): Promise<Version | null>;
  history(type: string, id: string, count: number, offset: number): Promise<{ versions: Version[]; total: number }>;
  historyOf(type: string | null, query: HistoryQuery): Promise<{ versions: Version[]; total: number }>;
  search(type: string, query: SearchQuery): Promise<SearchResult>;
  createAll(resources: Resource[]): Promise<Version[]>;
  write(resource: Resource, expectedVersionId: string | null, deleted?: boolean): Promise<Version>;
}

/** The Patients of stored versions read lately, by version (see patientsOfVersion). */
const versionPatients = new Map<string, readonly string[]>();
const REMEMBERED_VERSIONS = 10_000;

/**
 * The Patients a stored version concerns, remembered: a version never changes, and finding them evaluates
 * FHIRPath over the resource, which was the largest part of a search's own cost when each result of each search
 * paid it again. Keyed by server, version and time written, so that no two stores' versions share an entry.
 */
function patientsOfVersion(resource: Resource, baseUrl: string): readonly string[] {
  const versionId = resource.meta?.versionId;
  const lastUpdated = resource.meta?.lastUpdated;
  if (resource.resourceType === 'Patient' || !versionId || !lastUpdated) return patientsOf(resource, baseUrl);
  // Read from the JSON alone, they cost less than their key in the memo: only a FHIRPath evaluation is remembered.
  const codes = patientCompartmentParameters().get(resource.resourceType);
  if (!codes || referencesReadPlainly(resource.resourceType, codes)) return patientsOf(resource, baseUrl);
  const key = `${baseUrl} ${resource.resourceType}/${resource.id}/${versionId} ${lastUpdated}`;
  let patients = versionPatients.get(key);
  if (!patients) {
    patients = Object.freeze(patientsOf(resource, baseUrl));
    versionPatients.set(key, patients);
    if (versionPatients.size > REMEMBERED_VERSIONS) versionPatients.delete(versionPatients.keys().next().value!);
  }
  return patients;
}

const failure = (error: unknown): { outcome: Outcome; outcomeDesc: string } | null =>
  error instanceof FhirError ? { outcome: error.status < 500 ? '4' : '8', outcomeDesc: `${error.status}: ${error.message}` } : null;

export function auditedResources<View extends AuditedMethods>(view: View, baseUrl: string): View {
  if (!currentAuditScope()) return view;
  /** Reads through this view, by type/id, until a write of the same resource makes them part of it. */
  const reads = new Map<string, AuditEventResource[]>();
  const key = (type: string, id: string) => `${type}/${id}`;

  const recordRead = (interaction: RestInteraction, type: string, id: string, resource: Resource | null, versionId?: string, failed?: ReturnType<typeof failure>) => {
    const events = recordAudit((actor) =>
      restEvent(
        {
          interaction,
          type,
          id,
          ...(versionId && { versionId }),
          patients: resource ? patientsOfVersion(resource, baseUrl) : [],
          outcome: failed?.outcome ?? '0',
          ...(failed && { outcomeDesc: failed.outcomeDesc }),
        },
        actor,
      ),
    );
    reads.set(key(type, id), [...(reads.get(key(type, id)) ?? []), ...events]);
  };

  /** A read: an event when it found something or was refused; nothing for a resource that never existed. */
  async function audit<T extends { resource: Resource; versionId: string } | null>(type: string, id: string, read: () => Promise<T>): Promise<T> {
    try {
      const version = await read();
      if (version) recordRead('read', type, id, version.resource, version.versionId);
      return version;
    } catch (error) {
      const failed = failure(error);
      if (failed) recordRead('read', type, id, null, undefined, failed);
      throw error;
    }
  }

  /**
   * A query (search, type or system history): BALP asks one event per Patient the results concern
   * (PatientQuery), so each event may be shown to its patient without naming the others; a query that concerns
   * no patient is one Query event.
   */
  const recordQuery = (interaction: RestInteraction, type: string, results: Resource[]) => {
    const patients = new Set<string>();
    for (const resource of results) for (const patient of patientsOfVersion(resource, baseUrl)) patients.add(patient);
    const sent = requestQuery() ?? '';
    const each = patients.size > 0 ? [...patients].map((patient) => [patient]) : [[]];
    recordAudit((actor) => each.map((named) => restEvent({ interaction, type, patients: named, query: sent, outcome: '0' }, actor)));
  };

  /** A write (create, update, patch, delete) of `resource`: done ('0', with its version) or refused. */
  const recordWrite = (interaction: RestInteraction, resource: Resource, outcome: Outcome, versionId?: string, outcomeDesc?: string) =>
    recordAudit((actor) =>
      restEvent(
        { interaction, type: resource.resourceType, id: resource.id, ...(versionId && { versionId }), patients: patientsOf(resource, baseUrl), outcome, ...(outcomeDesc && { outcomeDesc }) },
        actor,
      ),
    );

  const audited: AuditedMethods = {
    read: (type, id) => audit(type, id, () => view.read(type, id)),
    find: (type, id) => audit(type, id, () => view.find(type, id)),

    async vread(type, id, versionId) {
      const version = await view.vread(type, id, versionId);
      if (version) recordRead('vread', type, id, version.resource, versionId);
      return version;
    },

    async history(type, id, count, offset) {
      const result = await view.history(type, id, count, offset);
      const latest = result.versions[0];
      if (latest) recordRead('history-instance', type, id, latest.resource);
      return result;
    },

    async search(type, query) {
      const result = await view.search(type, query);
      recordQuery('search-type', type, result.resources);
      return result;
    },

    async historyOf(type, query) {
      const result = await view.historyOf(type, query);
      recordQuery(type === null ? 'history-system' : 'history-type', type ?? '*', result.versions.map((version) => version.resource));
      return result;
    },

    async createAll(resources) {
      try {
        const versions = await view.createAll(resources);
        for (const version of versions) recordWrite('create', version.resource, '0', version.versionId);
        return versions;
      } catch (error) {
        const failed = failure(error);
        if (failed) for (const resource of resources) recordWrite('create', resource, failed.outcome, undefined, failed.outcomeDesc);
        throw error;
      }
    },

    async write(resource, expectedVersionId, deleted = false) {
      const { resourceType: type, id } = resource;
      const interaction: RestInteraction = deleted ? 'delete' : expectedVersionId === null ? 'create' : currentAuditScope()?.request.method === 'PATCH' ? 'patch' : 'update';
      unrecordAudit(reads.get(key(type, id)) ?? []);
      reads.delete(key(type, id));
      try {
        const version = await view.write(resource, expectedVersionId, deleted);
        recordWrite(interaction, resource, '0', version.versionId);
        return version;
      } catch (error) {
        // A lost race (VersionConflict) is retried by the caller: only a refusal is an event.
        const failed = failure(error);
        if (failed) recordWrite(interaction, resource, failed.outcome, undefined, failed.outcomeDesc);
        throw error;
      }
    },
  };
  return { ...view, ...audited };
}
