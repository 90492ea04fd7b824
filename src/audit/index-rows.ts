// The search index rows of an AuditEvent this server built, read straight from the shape src/audit/event.ts
// gives it: the general extractor (src/search/extract.ts, FHIRPath over every parameter) costs more per event
// than the read the event records. test/audit/index-rows.test.ts holds the two to the same rows.
import type { Resource } from '../fhir/resource.ts';
import { parseDateRange } from '../search/date-range.ts';
import type { DateRow, IndexRows, ReferenceRow, TokenRow } from '../search/extract.ts';
import { indexKeysOf } from '../search/index-keys.ts';
import { truncateValue } from '../search/values.ts';

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
 * The rows of each kind, one per distinct value as the general extractor keeps them. An event has about ten:
 * looking through them costs less than a set of their keys.
 */
class Rows {
  readonly token: TokenRow[] = [];
  readonly reference: ReferenceRow[] = [];

  addToken(code: string, system: string | null, value: string): void {
    if (!this.token.some((row) => row.code === code && row.system === system && row.value === value)) this.token.push({ code, system, value });
  }

  addReference(code: string, targetType: string, targetId: string): void {
    if (!this.reference.some((row) => row.code === code && row.target_type === targetType && row.target_id === targetId)) {
      this.reference.push({ code, target_type: targetType, target_id: targetId, url: null });
    }
  }
}

/** A coding's token row (its display has none: AuditEvent is not indexed for `:text`, src/search/parameters.ts). */
function addCoding(rows: Rows, code: string, coding: Coding | undefined): void {
  if (coding?.code) rows.addToken(code, coding.system ?? null, coding.code);
}

/**
 * An agent's or entity's reference (`code`, and `patient` when it names a Patient), and an entity's logical
 * identifier, `entity:identifier` (R4 §3.1.1.5.11): the request id, by which a log line finds its events.
 */
function addReference(rows: Rows, code: 'agent' | 'entity', reference: Reference | undefined): void {
  const match = RELATIVE_REFERENCE.exec(reference?.reference ?? '');
  if (match) {
    rows.addReference(code, match[1], match[2]);
    if (match[1] === 'Patient') rows.addReference('patient', match[1], match[2]);
  }
  const identifier = reference?.identifier;
  if (code === 'entity' && identifier?.value) rows.addToken('entity:identifier', identifier.system ?? null, truncateValue(identifier.value));
}

/** An instant to the millisecond, as event.ts writes `recorded` (Date.toISOString). */
const MILLISECOND_INSTANT = /^[1-9]\d{3}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The range `recorded` covers: for event.ts's own instants, the millisecond it names, without parsing it field by field. */
function recordedRange(recorded: string) {
  if (MILLISECOND_INSTANT.test(recorded)) {
    const ms = Date.parse(recorded);
    if (Number.isFinite(ms) && new Date(ms).toISOString() === recorded) return { low: recorded, high: new Date(ms + 1).toISOString() };
  }
  return parseDateRange(recorded);
}

/** The `date` row: when the event was recorded. */
export function auditRecordedRow(event: Resource): DateRow | null {
  const range = typeof event.recorded === 'string' ? recordedRange(event.recorded) : null;
  return range && { code: 'date', ...range };
}

/** The rows of the parameters AuditEvent is searched by (src/search/parameters.ts), none of `_profile`, `:text`... */
export function auditIndexRows(event: Resource): IndexRows {
  const rows = new Rows();
  if (typeof event.action === 'string') rows.addToken('action', null, event.action);
  if (typeof event.outcome === 'string') rows.addToken('outcome', null, event.outcome);
  for (const coding of (event.subtype ?? []) as Coding[]) addCoding(rows, 'subtype', coding);
  addCoding(rows, 'type', event.type as Coding | undefined);
  for (const agent of (event.agent ?? []) as { who?: Reference }[]) addReference(rows, 'agent', agent.who);
  for (const entity of (event.entity ?? []) as { what?: Reference }[]) addReference(rows, 'entity', entity.what);
  const recorded = auditRecordedRow(event);
  return {
    string: [],
    token: rows.token,
    reference: rows.reference,
    date: recorded ? [recorded] : [],
    quantity: [],
    text: [],
    position: [],
  };
}

/** The index keys of the parts events share (event.ts freezes them): worked out once for each part. */
const sharedPartKeys = new WeakMap<object, readonly string[]>();

function partKeys(part: object, add: (rows: Rows) => void): readonly string[] {
  const frozen = Object.isFrozen(part);
  let keys = frozen ? sharedPartKeys.get(part) : undefined;
  if (keys === undefined) {
    const rows = new Rows();
    add(rows);
    keys = indexKeysOf(rows);
    if (frozen) sharedPartKeys.set(part, keys);
  }
  return keys;
}

const valueTokenKeys = new Map<string, readonly string[]>();

/** action and outcome: a few values, each with its keys once. */
function valueKeys(code: 'action' | 'outcome', value: string): readonly string[] {
  const name = `${code} ${value}`;
  let keys = valueTokenKeys.get(name);
  if (keys === undefined) {
    const rows = new Rows();
    rows.addToken(code, null, value);
    keys = indexKeysOf(rows);
    if (valueTokenKeys.size < 100) valueTokenKeys.set(name, keys);
  }
  return keys;
}

/**
 * The index keys (src/search/index-keys.ts) of auditIndexRows' token and reference rows, by parts: an event's
 * agents, codings and Patient entity are shared with other events, and so are their keys. A key may come twice
 * (the Patient of an agent and of an entity): the index and the search read a key once all the same.
 */
export function auditIndexKeys(event: Resource): string[] {
  const keys: string[] = [];
  if (typeof event.action === 'string') keys.push(...valueKeys('action', event.action));
  if (typeof event.outcome === 'string') keys.push(...valueKeys('outcome', event.outcome));
  if (Array.isArray(event.subtype)) keys.push(...partKeys(event.subtype, (rows) => (event.subtype as Coding[]).forEach((coding) => addCoding(rows, 'subtype', coding))));
  if (event.type && typeof event.type === 'object') keys.push(...partKeys(event.type, (rows) => addCoding(rows, 'type', event.type as Coding)));
  if (Array.isArray(event.agent)) {
    const agents = event.agent as { who?: Reference }[];
    keys.push(...partKeys(agents, (rows) => agents.forEach((agent) => addReference(rows, 'agent', agent.who))));
  }
  for (const entity of (event.entity ?? []) as { what?: Reference }[]) keys.push(...partKeys(entity, (rows) => addReference(rows, 'entity', entity.what)));
  return keys;
}
