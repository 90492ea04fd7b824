// engine: json-schema — the request object must validate against a JSON Schema (draft-07), with Aidbox's
// two quirks: `constant` is read as `const`, and empty values (null, "", [], {}) are removed from the request
// before it is validated, so `required` means "present and not empty".
import { Ajv, type ErrorObject } from 'ajv';
import { ajvRegExp } from '../regex.ts';
import { PolicyError, type Rule } from '../policy.ts';

// strict: false because Aidbox accepts schemas with keywords of its own; the meta-schema still rejects
// malformed ones (a wrong `type`, a non-array `required`, ...). Patterns run on RE2.
const ajv = new Ajv({ strict: false, allErrors: false, code: { regExp: ajvRegExp } });

const SCHEMA_MAPS = ['properties', 'patternProperties', 'definitions', '$defs', 'dependencies'];
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'items'];
const SCHEMA_VALUES = ['not', 'if', 'then', 'else', 'items', 'additionalItems', 'additionalProperties', 'contains', 'propertyNames'];

/** Rewrites `constant` to `const` in every (sub)schema, leaving property names alone, and drops `$id`. */
export function normalizeSchema(schema: unknown): unknown {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    // A schema's $id would make ajv refuse to compile it again when the policy is recompiled.
    if (key === '$id') continue;
    if (key === 'constant' && !Object.hasOwn(schema, 'const')) out.const = value;
    else if (SCHEMA_MAPS.includes(key) && value && typeof value === 'object' && !Array.isArray(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, normalizeSchema(sub)]));
    } else if (SCHEMA_LISTS.includes(key) && Array.isArray(value)) out[key] = value.map(normalizeSchema);
    else if (SCHEMA_VALUES.includes(key)) out[key] = normalizeSchema(value);
    else out[key] = value;
  }
  return out;
}

/** Removes null, "", [] and {} recursively, as Aidbox does before matching. Runs on every request: plain loops. */
export function removeEmpty(value: unknown): unknown {
  if (value === null || value === '') return undefined;
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const item of value) {
      const kept = removeEmpty(item);
      if (kept !== undefined) items.push(kept);
    }
    return items.length === 0 ? undefined : items;
  }
  const out: Record<string, unknown> = {};
  let empty = true;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const kept = removeEmpty((value as Record<string, unknown>)[key]);
    if (kept === undefined) continue;
    out[key] = kept;
    empty = false;
  }
  return empty ? undefined : out;
}

function describe(error: ErrorObject): string {
  const where = error.instancePath === '' ? 'request' : `request${error.instancePath.replace(/\//g, '.')}`;
  if (error.keyword === 'enum') return `${where} must be one of ${JSON.stringify(error.params.allowedValues)}`;
  if (error.keyword === 'const') return `${where} must be ${JSON.stringify(error.params.allowedValue)}`;
  return `${where} ${error.message ?? 'is invalid'}`;
}

export function compileJsonSchema(schema: unknown, path: string): Rule {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new PolicyError(path, 'must be a JSON Schema object');
  }
  let validate;
  try {
    validate = ajv.compile(normalizeSchema(schema) as object);
  } catch (error) {
    throw new PolicyError(path, `invalid JSON Schema: ${(error as Error).message}`);
  }
  return {
    engine: 'json-schema',
    evaluate(input) {
      const compact = input.compact() ?? {};
      if (validate(compact)) return { allowed: true };
      return { allowed: false, reason: input.explain ? describe(validate.errors![0]) : undefined };
    },
  };
}
