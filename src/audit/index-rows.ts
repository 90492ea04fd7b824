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
const RELATIVE_REFERENCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

/**
 * The rows of each kind, one per distinct value as the general extractor keeps them: a row is added once per
 * key, which joins its fields (NUL never occurs in a stored event; `\u0001` stands for a null).
 */
class Rows {
  readonly string: StringRow[] = [];
  readonly token: TokenRow[] = [];
  readonly reference: ReferenceRow[] = [];
  private readonly seen = new Set<string>();

  private first(key: string): boolean {
    return !this.seen.has(key) && (this.seen.add(key), true);
  }

  addString(code: string, value: string, raw: string): void {
    if (this.first(`s\0${code}\0${value}\0${raw}`)) this.string.push({ code, value, raw });
  }

  addToken(code: string, system: string | null, value: string): void {
    if (this.first(`t\0${code}\0${system ?? '\u0001'}\0${value}`)) this.token.push({ code, system, value });
  }

  addReference(code: string, targetType: string, targetId: string): void {
    if (this.first(`r\0${code}\0${targetType}\0${targetId}`)) this.reference.push({ code, target_type: targetType, target_id: targetId, url: null });
  }
}

/** The normalised display of a coding event.ts shares (frozen): normalising it (NFD, marks removed) is done once. */
const normalisedDisplays = new WeakMap<Coding, string>();

function normalisedDisplay(coding: Coding & { display: string }): string {
  if (!Object.isFrozen(coding)) return normalizeString(coding.display);
  let value = normalisedDisplays.get(coding);
  if (value === undefined) normalisedDisplays.set(coding, (value = normalizeString(coding.display)));
  return value;
}

/** A coding's token row, and its `:text` row (R4 §3.1.1.5.6): the display. */
function addCoding(rows: Rows, code: string, coding: Coding | undefined): void {
  if (coding?.code) rows.addToken(code, coding.system ?? null, coding.code);
  if (coding?.display) rows.addString(`${code}:text`, normalisedDisplay(coding as Coding & { display: string }), coding.display);
}

/**
 * An agent's or entity's reference (`code`, and `patient` when it names a Patient), and the `:identifier` rows
 * (R4 §3.1.1.5.11) of the logical identifier it carries.
 */
function addReference(rows: Rows, code: 'agent' | 'entity', reference: Reference | undefined): void {
  const match = RELATIVE_REFERENCE.exec(reference?.reference ?? '');
  if (match) {
    rows.addReference(code, match[1], match[2]);
    if (match[1] === 'Patient') rows.addReference('patient', match[1], match[2]);
  }
  const identifier = reference?.identifier;
  if (identifier?.value) {
    const value = truncateValue(identifier.value);
    rows.addToken(`${code}:identifier`, identifier.system ?? null, value);
    rows.addToken('patient:identifier', identifier.system ?? null, value);
  }
}

export function auditIndexRows(event: Resource): IndexRows {
  const rows = new Rows();
  for (const profile of (event.meta?.profile ?? []) as string[]) rows.addToken('_profile', null, profile);
  if (typeof event.action === 'string') rows.addToken('action', null, event.action);
  if (typeof event.outcome === 'string') rows.addToken('outcome', null, event.outcome);
  for (const coding of (event.subtype ?? []) as Coding[]) addCoding(rows, 'subtype', coding);
  addCoding(rows, 'type', event.type as Coding | undefined);
  for (const agent of (event.agent ?? []) as { who?: Reference }[]) addReference(rows, 'agent', agent.who);
  for (const entity of (event.entity ?? []) as { what?: Reference }[]) addReference(rows, 'entity', entity.what);
  const recorded = typeof event.recorded === 'string' ? parseDateRange(event.recorded) : null;
  return {
    string: rows.string,
    token: rows.token,
    reference: rows.reference,
    date: recorded ? [{ code: 'date', ...recorded }] : [],
    quantity: [],
    text: [],
    position: [],
  };
}
