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

interface IndexedPart {
  part: object | string;
  add: (rows: Rows) => void;
}

/**
 * The parts of an event that have index rows, each with the rows it adds. `part` names it for remembering its
 * keys: a frozen object is a part events share (event.ts freezes a caller's agents, the codings, a Patient's
 * entity), a string one of the few values of `action` and `outcome`.
 */
function indexedParts(event: Resource): IndexedPart[] {
  const parts: IndexedPart[] = [];
  for (const code of ['action', 'outcome'] as const) {
    const value = event[code];
    if (typeof value === 'string') parts.push({ part: `${code} ${value}`, add: (rows) => rows.addToken(code, null, value) });
  }
  const subtype = event.subtype as Coding[] | undefined;
  if (Array.isArray(subtype)) parts.push({ part: subtype, add: (rows) => subtype.forEach((coding) => addCoding(rows, 'subtype', coding)) });
  const type = event.type as Coding | undefined;
  if (type && typeof type === 'object') parts.push({ part: type, add: (rows) => addCoding(rows, 'type', type) });
  const agents = event.agent as { who?: Reference }[] | undefined;
  if (Array.isArray(agents)) parts.push({ part: agents, add: (rows) => agents.forEach((agent) => addReference(rows, 'agent', agent.who)) });
  for (const entity of (event.entity ?? []) as { what?: Reference }[]) parts.push({ part: entity, add: (rows) => addReference(rows, 'entity', entity.what) });
  return parts;
}

/** The rows of the parameters AuditEvent is searched by (src/search/parameters.ts), none of `_profile`, `:text`... */
export function auditIndexRows(event: Resource): IndexRows {
  const rows = new Rows();
  for (const { add } of indexedParts(event)) add(rows);
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

/** The keys of shared parts (frozen objects) and of `action` and `outcome` values, worked out once each. */
const sharedPartKeys = new WeakMap<object, readonly string[]>();
const valueKeys = new Map<string, readonly string[]>();

function keysOf(add: IndexedPart['add']): readonly string[] {
  const rows = new Rows();
  add(rows);
  return indexKeysOf(rows);
}

function partKeys({ part, add }: IndexedPart): readonly string[] {
  if (typeof part === 'string') {
    let keys = valueKeys.get(part);
    if (keys === undefined) {
      keys = keysOf(add);
      if (valueKeys.size < 100) valueKeys.set(part, keys);
    }
    return keys;
  }
  if (!Object.isFrozen(part)) return keysOf(add);
  let keys = sharedPartKeys.get(part);
  if (keys === undefined) sharedPartKeys.set(part, (keys = keysOf(add)));
  return keys;
}

/**
 * The index keys (src/search/index-keys.ts) of auditIndexRows' token and reference rows, part by part, so that
 * a shared part's keys are worked out once. A key may come twice (the Patient of an agent and of an entity): the
 * index and the search read a key once all the same.
 */
export function auditIndexKeys(event: Resource): string[] {
  return indexedParts(event).flatMap(partKeys);
}
