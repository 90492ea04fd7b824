// The search index rows of an AuditEvent this server built, read straight from the shape src/audit/event.ts
// gives it: the general extractor (src/search/extract.ts, FHIRPath over every parameter) costs more per event
// than the read the event records. test/audit/index-rows.test.ts holds the two to the same rows.
import type { Resource } from '../fhir/resource.ts';
import { parseDateRange } from '../search/date-range.ts';
import type { IndexRows, ReferenceRow, StringRow, TokenRow } from '../search/extract.ts';
import { normalizeString, truncateValue } from '../search/values.ts';

interface Coding {
  system?: string;
  code?: string;
  display?: string;
}
interface Reference {
  reference?: string;
  identifier?: { system?: string; value?: string };
}

/** "Type/id" or "Type/id/_history/n", as this server writes them (relative, never absolute). */
function referenceRow(code: string, reference: Reference | undefined): ReferenceRow | null {
  const match = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference?.reference ?? '');
  return match ? { code, target_type: match[1], target_id: match[2], url: null } : null;
}

const tokenRow = (code: string, coding: Coding | undefined): TokenRow[] =>
  coding?.code ? [{ code, system: coding.system ?? null, value: coding.code }] : [];

/** One row per distinct value, as the general extractor keeps them. */
function unique<T extends object>(rows: T[]): T[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    const key = JSON.stringify(row);
    return !seen.has(key) && (seen.add(key), true);
  });
}

/** `:identifier` rows (R4 §3.1.1.5.11): the logical identifier a reference carries. */
const identifierRows = (codes: string[], reference: Reference | undefined): TokenRow[] =>
  reference?.identifier?.value ? codes.map((code) => ({ code, system: reference.identifier!.system ?? null, value: truncateValue(reference.identifier!.value!) })) : [];

/** `:text` rows (R4 §3.1.1.5.6): the display of a coding. */
const textRow = (code: string, coding: Coding | undefined): StringRow[] =>
  coding?.display ? [{ code: `${code}:text`, value: normalizeString(coding.display), raw: coding.display }] : [];

export function auditIndexRows(event: Resource): IndexRows {
  const who = ((event.agent ?? []) as { who?: Reference }[]).map((agent) => agent.who);
  const what = ((event.entity ?? []) as { what?: Reference }[]).map((entity) => entity.what);
  const agents = who.map((reference) => referenceRow('agent', reference)).filter((row) => row !== null);
  const entities = what.map((reference) => referenceRow('entity', reference)).filter((row) => row !== null);
  const patients = [...agents, ...entities].filter((row) => row.target_type === 'Patient').map((row) => ({ ...row, code: 'patient' }));
  const token: TokenRow[] = [
    ...((event.meta?.profile ?? []) as string[]).map((profile) => ({ code: '_profile', system: null, value: profile })),
    ...(typeof event.action === 'string' ? [{ code: 'action', system: null, value: event.action }] : []),
    ...(typeof event.outcome === 'string' ? [{ code: 'outcome', system: null, value: event.outcome }] : []),
    ...((event.subtype ?? []) as Coding[]).flatMap((coding) => tokenRow('subtype', coding)),
    ...tokenRow('type', event.type as Coding),
    ...who.flatMap((reference) => identifierRows(['agent:identifier', 'patient:identifier'], reference)),
    ...what.flatMap((reference) => identifierRows(['entity:identifier', 'patient:identifier'], reference)),
  ];
  const string: StringRow[] = [...textRow('type', event.type as Coding), ...((event.subtype ?? []) as Coding[]).flatMap((coding) => textRow('subtype', coding))];
  const recorded = typeof event.recorded === 'string' ? parseDateRange(event.recorded) : null;
  return { string: unique(string), token: unique(token), reference: unique([...agents, ...entities, ...patients]), date: recorded ? [{ code: 'date', ...recorded }] : [], quantity: [], text: [], position: [] };
}
