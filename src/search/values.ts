// How indexed values and search values are put in one form, so that they compare equal when FHIR says so.
import { RESOURCE_TYPES } from '../fhir/resource-types.ts';

/**
 * Indexed values longer than this are cut: a btree entry holds at most ~2.7 kB, and 512 characters of
 * UTF-8 stay under it. Matches on longer values may then be too broad, never too narrow.
 */
export const MAX_VALUE_LENGTH = 512;

export function truncateValue(value: string): string {
  return value.length > MAX_VALUE_LENGTH ? value.slice(0, MAX_VALUE_LENGTH) : value;
}

/** String search ignores case and accents (FHIR R4 §3.1.1.4.8): "Élodie" is found by "elo". */
export function normalizeString(value: string): string {
  return truncateValue(value.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase());
}

export interface ParsedReference {
  targetType: string | null;
  targetId: string | null;
  /** The absolute URL (without a version) when the reference is one; null for a relative reference. */
  url: string | null;
}

const TYPE_AND_ID = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const ABSOLUTE = /^[a-z][a-z0-9+.-]*:/i;

/**
 * `Patient/1`, `Patient/1/_history/2`, `https://host/fhir/Patient/1` or `urn:uuid:...`: the type and id it
 * names, when it names them, and its URL when absolute. Contained (`#x`) and unreadable references: null.
 */
export function parseReference(reference: string): ParsedReference | null {
  const absolute = ABSOLUTE.test(reference);
  const match = TYPE_AND_ID.exec(reference);
  const named = match && RESOURCE_TYPES.has(match[1]) ? { targetType: match[1], targetId: match[2] } : null;
  if (!absolute) return named && !reference.startsWith('/') && match!.index === 0 ? { ...named, url: null } : null;
  const url = reference.replace(/\/_history\/[^/]*$/, '');
  return { targetType: named?.targetType ?? null, targetId: named?.targetId ?? null, url };
}

/** A part of a token as a search writes it: `\`, `|`, `$` and `,` escaped with `\` (R4 §3.1.1.4.11). */
export function escapeTokenPart(part: string): string {
  return part.replace(/[\\|$,]/g, (char) => `\\${char}`);
}
