// engine: matcho — Aidbox's pattern matcher. The pattern is matched against the request object:
//   a map matches a map containing at least its keys, each matching; an array matches an array whose first
//   elements match it, in order (a prefix); a string "#re" matches strings the regex finds a match in; a
//   string ".a.b" matches the value at path a.b of the request itself; "present?", "nil?" and "not-blank?"
//   test presence; any other value matches itself. Keys starting with $ are operators: $enum, $one-of,
//   $contains, $every, $not and $reference.
import { compileRegex, RegexError } from '../regex.ts';
import { PolicyError, readPath, type Rule } from '../policy.ts';
import type { RequestObject } from '../request-object.ts';

/**
 * Returns null on a match; otherwise why not, in words when `explain` is set and as '' when it is not, so a
 * request that is only decided never pays for the words.
 */
export type Matcher = (value: unknown, request: RequestObject, explain: boolean) => string | null;

const OPERATORS = ['$enum', '$one-of', '$contains', '$every', '$not', '$reference'];

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => deepEqual(item, other[i]));
  }
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length &&
    keys.every((key) => Object.hasOwn(b, key) && deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
  );
}

const show = (value: unknown) => (value === undefined ? 'absent' : JSON.stringify(value)?.slice(0, 200));
const isMap = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** "Patient/1", "http://base/Patient/1" or "Patient/1/_history/2", as {resourceType, id}. */
export function parseReference(value: unknown): { resourceType: string; id: string } | undefined {
  const reference = isMap(value) ? value.reference : value;
  if (typeof reference !== 'string') return undefined;
  const match = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference);
  return match ? { resourceType: match[1], id: match[2] } : undefined;
}

function compileString(pattern: string, at: string, where: string): Matcher {
  if (pattern === 'present?') return (value, _request, explain) => (value == null ? (explain ? `${where} is absent` : '') : null);
  if (pattern === 'nil?') return (value, _request, explain) => (value == null ? null : (explain ? `${where} is ${show(value)}, expected absent` : ''));
  if (pattern === 'not-blank?') {
    return (value, _request, explain) =>
      value == null || (typeof value === 'string' && value.trim() === '') ? (explain ? `${where} is blank` : '') : null;
  }
  if (pattern.startsWith('#')) {
    let regex;
    try {
      regex = compileRegex(pattern.slice(1));
    } catch (error) {
      if (error instanceof RegexError) throw new PolicyError(at, error.message);
      throw error;
    }
    return (value, _request, explain) =>
      (typeof value === 'string' || typeof value === 'number') && regex.test(String(value))
        ? null
        : (explain ? `${where} is ${show(value)}, does not match ${pattern}` : '');
  }
  if (pattern.startsWith('.') && pattern.length > 1) {
    const path = pattern.slice(1);
    // An absent reference never matches, or ".user.id" would match anything absent when there is no user.
    return (value, request, explain) => {
      const expected = readPath(request, path);
      return expected !== undefined && deepEqual(value, expected)
        ? null
        : (explain ? `${where} is ${show(value)}, expected ${pattern} = ${show(expected)}` : '');
    };
  }
  return (value, _request, explain) => (value === pattern ? null : (explain ? `${where} is ${show(value)}, expected ${show(pattern)}` : ''));
}

function compileOperator(operator: string, argument: unknown, at: string, where: string): Matcher {
  switch (operator) {
    case '$enum': {
      if (!Array.isArray(argument)) throw new PolicyError(at, '$enum takes an array of values');
      return (value, _request, explain) =>
        argument.some((item) => deepEqual(item, value)) ? null : (explain ? `${where} is ${show(value)}, expected one of ${show(argument)}` : '');
    }
    case '$one-of': {
      if (!Array.isArray(argument) || argument.length === 0) throw new PolicyError(at, '$one-of takes a non-empty array of patterns');
      const options = argument.map((item, i) => compileMatcho(item, `${at}[${i}]`, where));
      return (value, request, explain) => {
        const failures: string[] = [];
        for (const option of options) {
          const failure = option(value, request, explain);
          if (failure === null) return null;
          failures.push(failure);
        }
        return explain ? `none of $one-of matched: ${failures.join('; ')}` : '';
      };
    }
    case '$contains': {
      const item = compileMatcho(argument, at, `${where}[*]`);
      return (value, request, explain) =>
        Array.isArray(value) && value.some((element) => item(element, request, explain) === null)
          ? null
          : (explain ? `${where} has no element matching ${show(argument)}` : '');
    }
    case '$every': {
      const item = compileMatcho(argument, at, `${where}[*]`);
      return (value, request, explain) => {
        if (!Array.isArray(value)) return (explain ? `${where} is ${show(value)}, expected an array` : '');
        for (const element of value) {
          const failure = item(element, request, explain);
          if (failure !== null) return failure;
        }
        return null;
      };
    }
    case '$not': {
      const inner = compileMatcho(argument, at, where);
      return (value, request, explain) => (inner(value, request, false) === null ? (explain ? `${where} matches ${show(argument)}, which $not forbids` : '') : null);
    }
    case '$reference': {
      const inner = compileMatcho(argument, at, `${where} (as reference)`);
      return (value, request, explain) => {
        const parsed = parseReference(value);
        return parsed ? inner(parsed, request, explain) : (explain ? `${where} is ${show(value)}, not a reference` : '');
      };
    }
    default:
      throw new PolicyError(at, `unknown operator ${operator}; known: ${OPERATORS.join(', ')}`);
  }
}

/**
 * Compiles a pattern once into a matcher. `at` names the pattern's place in the policy (for errors at write
 * time), `where` the place in the request it is matched against (for reasons at decision time).
 */
export function compileMatcho(pattern: unknown, at: string, where = 'request'): Matcher {
  if (typeof pattern === 'string') return compileString(pattern, at, where);
  if (pattern === null) return compileString('nil?', at, where);
  if (Array.isArray(pattern)) {
    const items = pattern.map((item, i) => compileMatcho(item, `${at}[${i}]`, `${where}[${i}]`));
    return (value, request, explain) => {
      if (!Array.isArray(value) || value.length < items.length) {
        return (explain ? `${where} is ${show(value)}, expected an array starting with ${items.length} matching element(s)` : '');
      }
      for (let i = 0; i < items.length; i++) {
        const failure = items[i](value[i], request, explain);
        if (failure !== null) return failure;
      }
      return null;
    };
  }
  if (isMap(pattern)) {
    const checks: Matcher[] = [];
    const fields: [string, Matcher][] = [];
    for (const [key, sub] of Object.entries(pattern)) {
      if (key.startsWith('$')) checks.push(compileOperator(key, sub, `${at}.${key}`, where));
      else fields.push([key, compileMatcho(sub, `${at}.${key}`, `${where}.${key}`)]);
    }
    return (value, request, explain) => {
      if (fields.length > 0) {
        if (!isMap(value)) return (explain ? `${where} is ${show(value)}, expected a map` : '');
        for (const [key, field] of fields) {
          const failure = field(Object.hasOwn(value, key) ? value[key] : undefined, request, explain);
          if (failure !== null) return failure;
        }
      }
      for (const check of checks) {
        const failure = check(value, request, explain);
        if (failure !== null) return failure;
      }
      return null;
    };
  }
  if (typeof pattern === 'number' || typeof pattern === 'boolean') {
    return (value, _request, explain) => (value === pattern ? null : (explain ? `${where} is ${show(value)}, expected ${show(pattern)}` : ''));
  }
  throw new PolicyError(at, `unsupported pattern ${show(pattern)}`);
}

export function compileMatchoRule(pattern: unknown, at: string): Rule {
  if (!isMap(pattern)) throw new PolicyError(at, 'must be a map matched against the request');
  const matcher = compileMatcho(pattern, at);
  return {
    engine: 'matcho',
    evaluate(input) {
      const failure = matcher(input.request, input.request, input.explain);
      return failure === null ? { allowed: true } : { allowed: false, reason: failure || undefined };
    },
  };
}
