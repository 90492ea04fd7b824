// FHIR primitive types in JSON (R4 §2.6.2 json.html#primitive): the JSON type each is sent as, its range, and
// the regex the spec gives for its lexical form (the `regex` extension of `<type>.value` in profiles-types).
import { RE2JS } from 're2js';
import { baseStructure } from './definitions.ts';

export const PRIMITIVE_TYPES = new Set([
  'base64Binary', 'boolean', 'canonical', 'code', 'date', 'dateTime', 'decimal', 'id', 'instant', 'integer',
  'markdown', 'oid', 'positiveInt', 'string', 'time', 'unsignedInt', 'uri', 'url', 'uuid', 'xhtml',
]);

const INTEGER_RANGE: Record<string, [number, number]> = {
  integer: [-2147483648, 2147483647],
  positiveInt: [1, 2147483647],
  unsignedInt: [0, 2147483647],
};

interface Pattern {
  test(input: string): boolean;
}

const patterns = new Map<string, Pattern | null>();

function patternOf(type: string): Pattern | null {
  let pattern = patterns.get(type);
  if (pattern === undefined) {
    const value = baseStructure(type)?.snapshot?.element.find((element) => element.path === `${type}.value`);
    const regex = value?.type?.[0]?.extension?.find((extension) => extension.url.endsWith('/regex'))?.valueString;
    if (!regex) pattern = null;
    // base64Binary's `(\s*([0-9a-zA-Z\+/=]){4}\s*)+` backtracks on long whitespace runs: run it on RE2 (linear time).
    else if (type === 'base64Binary') pattern = RE2JS.compile(`^(?:${regex})$`);
    else pattern = new RegExp(`^(?:${regex})$`);
    patterns.set(type, pattern);
  }
  return pattern;
}

/** What is wrong with `value` as a JSON primitive of `type`, or undefined when it is fine. */
export function primitiveProblem(value: unknown, type: string): string | undefined {
  if (type === 'boolean') return typeof value === 'boolean' ? undefined : `must be a JSON boolean, got ${describe(value)}`;
  const range = INTEGER_RANGE[type];
  if (range) {
    if (typeof value !== 'number' || !Number.isInteger(value)) return `must be a JSON integer, got ${describe(value)}`;
    if (value < range[0] || value > range[1]) return `must be between ${range[0]} and ${range[1]} (${type}), got ${value}`;
    return undefined;
  }
  if (type === 'decimal') return typeof value === 'number' && Number.isFinite(value) ? undefined : `must be a JSON number, got ${describe(value)}`;
  if (typeof value !== 'string') return `must be a JSON string, got ${describe(value)}`;
  if (type === 'xhtml') return /^\s*<div[\s>]/.test(value) ? undefined : 'must be XHTML in a <div> element';
  const pattern = patternOf(type);
  if (pattern && !pattern.test(value)) return `"${value.slice(0, 80)}" is not a valid ${type}`;
  return undefined;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 80))}`;
  return `the ${typeof value} ${String(value)}`;
}
