// The kick-off request of Bulk Data Access 2.0 (HL7 FHIR Bulk Data IG, "Bulk Data Kick-off Request"), parsed and
// checked before a job exists: `Prefer: respond-async` is required; `_outputFormat` must name NDJSON; `_type` and
// `_typeFilter` name types of the export's level; `_typeFilter` queries are searches this server can run; an
// unsupported parameter is refused unless `Prefer: handling=lenient` asks for it to be ignored.
import { badRequest } from '../fhir/outcome.ts';
import { searchFilters } from '../search/query.ts';
import type { SearchFilter } from '../store/resource-store.ts';
import { EXPORTABLE_TYPES, instantParameter, patientRecordTypes, withoutAuditTrail } from './filters.ts';

export type ExportLevel = 'system' | 'patient' | 'group';

/** What a job exports; kept with the job as JSON, so the run rebuilds its filters from it. */
export interface ExportRequest {
  level: ExportLevel;
  types: string[];
  since?: string;
  /** By type, the `_typeFilter` queries (`category=laboratory&status=final`): a resource must match one of them. */
  typeFilters: Record<string, string[]>;
  /** Group exports: the Group's member patients when the export was asked for. */
  group?: { id: string; patients: string[] };
}

export const OUTPUT_FORMATS = ['application/fhir+ndjson', 'application/ndjson', 'ndjson'];
const PARAMETERS = new Set(['_outputFormat', '_since', '_type', '_typeFilter']);

type Query = Record<string, string | string[] | undefined>;

const values = (query: Query, name: string) => [query[name] ?? []].flat();

function preferences(prefer: string | undefined): Set<string> {
  return new Set((prefer ?? '').split(',').map((part) => part.trim().toLowerCase().replace(/\s*=\s*/, '=')).filter(Boolean));
}

function single(query: Query, name: string): string | undefined {
  const all = values(query, name);
  if (all.length > 1) throw badRequest(`${name} may appear only once`, 'value', [name]);
  return all[0];
}

/** The `_typeFilter` query of `type` as search parameters: 400 when this server cannot search by them. */
function typeFilterParams(type: string, query: string, baseUrl: string): [string, string[]][] {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(query)) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  const params = [...grouped.entries()];
  if (params.length === 0) throw badRequest(`_typeFilter "${type}?" has no search parameter`, 'value', ['_typeFilter']);
  searchFilters(type, params, baseUrl, []);
  return params;
}

export function parseKickoff(query: Query, prefer: string | undefined, level: ExportLevel, baseUrl: string): ExportRequest {
  // PostgreSQL text cannot hold NUL: refused here, not when the job runs.
  if (Object.values(query).flat().some((value) => value?.includes('\u0000'))) throw badRequest('Text may not contain the NUL character (U+0000)', 'value');
  const preferred = preferences(prefer);
  if (!preferred.has('respond-async')) throw badRequest('A Bulk Data kick-off needs the header "Prefer: respond-async"', 'required', ['Prefer']);
  if (!preferred.has('handling=lenient')) {
    for (const name of Object.keys(query)) {
      if (!PARAMETERS.has(name)) throw badRequest(`$export does not support the parameter "${name.slice(0, 64)}"; supported: ${[...PARAMETERS].join(', ')}`, 'not-supported', [name]);
    }
  }
  const format = single(query, '_outputFormat');
  if (format !== undefined && !OUTPUT_FORMATS.includes(format)) {
    throw badRequest(`_outputFormat "${format.slice(0, 64)}" is not supported; use ${OUTPUT_FORMATS.join(', ')}`, 'not-supported', ['_outputFormat']);
  }
  const since = single(query, '_since');
  const allowed = level === 'system' ? EXPORTABLE_TYPES : patientRecordTypes();
  const named = values(query, '_type').flatMap((list) => list.split(',')).map((type) => type.trim()).filter(Boolean);
  for (const type of named) {
    if (!allowed.includes(type)) {
      throw badRequest(`_type: "${type.slice(0, 64)}" is not ${level === 'system' ? 'an exportable FHIR resource type' : 'a type of the Patient compartment'}`, 'value', ['_type']);
    }
  }
  const types = named.length > 0 ? [...new Set(named)].sort() : withoutAuditTrail(allowed);
  const typeFilters: Record<string, string[]> = {};
  for (const filter of values(query, '_typeFilter')) {
    const mark = filter.indexOf('?');
    const type = mark < 0 ? filter : filter.slice(0, mark);
    if (mark < 0 || !types.includes(type)) {
      throw badRequest(`_typeFilter "${filter.slice(0, 80)}" must be [type]?[search parameters] for a type the export includes`, 'value', ['_typeFilter']);
    }
    typeFilterParams(type, filter.slice(mark + 1), baseUrl);
    typeFilters[type] = [...(typeFilters[type] ?? []), filter.slice(mark + 1)];
  }
  return { level, types, ...(since !== undefined && { since: instantParameter('_since', since) }), typeFilters };
}

/** A type's `_typeFilter` queries as one condition: a resource matches one of them (none: no condition). */
export function typeFilterCondition(type: string, queries: readonly string[] | undefined, baseUrl: string): SearchFilter | null {
  if (!queries || queries.length === 0) return null;
  const alternatives = queries.map((query) => searchFilters(type, typeFilterParams(type, query, baseUrl), baseUrl, []));
  return (bind) => alternatives.map((filters) => `(${filters.map((filter) => `(${filter(bind)})`).join(' and ')})`).join(' or ');
}
