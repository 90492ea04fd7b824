// Validates a resource against the FHIR R4 base definitions in one walk over its JSON: element names, JSON
// types and primitive formats, cardinality, choice types, required bindings, contained resources and the
// FHIRPath invariants. Every problem is one issue whose `expression` is the FHIRPath of the offending node
// (`Patient.name[0].given[1]`), as the spec's OperationOutcome.issue.expression asks.
import { invariantHolds } from './invariants.ts';
import { describe, PRIMITIVE_TYPES, primitiveProblem } from './primitives.ts';
import { baseSchema, capitalize, type ElementSchema, type Invariant, type ObjectSchema } from './schema.ts';
import { inExpansion, specExpansion } from './terminology.ts';
import type { ValidationIssue } from './issues.ts';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Walk {
  readonly issues: ValidationIssue[] = [];

  report(code: ValidationIssue['code'], expression: string, diagnostics: string): void {
    this.issues.push({ severity: 'error', code, diagnostics: `${expression}: ${diagnostics}`, expression: [expression] });
  }

  resource(value: unknown, path: string, expectedType?: string): void {
    if (!isObject(value)) return this.report('structure', path, `must be a resource (a JSON object), got ${describe(value)}`);
    const type = value.resourceType;
    if (typeof type !== 'string') return this.report('required', path, 'a resource must have a resourceType');
    if (expectedType && type !== expectedType) return this.report('invalid', `${path}.resourceType`, `must be ${expectedType}, got "${type.slice(0, 64)}"`);
    const schema = baseSchema(type);
    if (!schema?.isResource) return this.report('invalid', `${path}.resourceType`, `"${type.slice(0, 64)}" is not a FHIR R4 resource type`);
    this.object(value, schema, path, value);
  }

  object(value: Json, schema: ObjectSchema, path: string, resource: Json): void {
    for (const key of Object.keys(value)) {
      if (key === 'resourceType' && schema.isResource) continue;
      const shadow = key.startsWith('_');
      const match = schema.byKey.get(shadow ? key.slice(1) : key);
      if (!match || (shadow && !PRIMITIVE_TYPES.has(match.type))) {
        this.report('structure', `${path}.${key}`, `unknown element "${key.slice(0, 64)}" in ${schema.name}`);
      }
    }
    for (const element of schema.elements) this.element(value, element, schema, path, resource);
    this.invariants(schema.invariants, value, path, resource);
  }

  /** The JSON keys of `element` present in `value`: one, or several of a choice (an error). */
  private presentKeys(value: Json, element: ElementSchema): string[] {
    if (!element.choice) return value[element.name] !== undefined || value[`_${element.name}`] !== undefined ? [element.name] : [];
    return element.types
      .map((type) => `${element.name}${capitalize(type)}`)
      .filter((key) => value[key] !== undefined || value[`_${key}`] !== undefined);
  }

  private element(value: Json, element: ElementSchema, schema: ObjectSchema, path: string, resource: Json): void {
    const keys = this.presentKeys(value, element);
    const name = element.choice ? `${element.name}[x]` : element.name;
    if (keys.length === 0) {
      if (element.min > 0) this.report('required', `${path}.${element.name}`, `${name} is required (minimum cardinality ${element.min})`);
      return;
    }
    if (keys.length > 1) {
      return this.report('structure', `${path}.${keys[1]}`, `only one of ${keys.join(', ')} may be present (${name} is a choice)`);
    }
    const key = keys[0];
    const type = schema.byKey.get(key)!.type;
    const repeating = element.max > 1;
    const items = this.items(value[key], key, repeating, path);
    const shadows = this.shadows(value[`_${key}`], key, repeating, type, path);
    if (!items || !shadows) return;
    const count = Math.max(items.length, shadows.length);
    if (count < element.min) this.report('required', `${path}.${key}`, `needs at least ${element.min} value(s), has ${count}`);
    if (count > element.max) this.report('structure', `${path}.${key}`, `allows at most ${element.max} value(s), has ${count}`);
    items.forEach((item, index) => {
      const itemPath = repeating ? `${path}.${key}[${index}]` : `${path}.${key}`;
      if (item === null) {
        // A null in a primitive array only holds the place of a value whose extensions are in `_key` (json.html#primitive).
        if (!PRIMITIVE_TYPES.has(type) || !isObject(shadows[index])) this.report('structure', itemPath, 'must not be null');
        return;
      }
      this.value(item, element, type, schema, itemPath, resource);
    });
  }

  /** The values of an element as a list, or undefined (reported) when the JSON shape contradicts the cardinality. */
  private items(raw: unknown, key: string, repeating: boolean, path: string): unknown[] | undefined {
    if (raw === undefined) return [];
    if (repeating !== Array.isArray(raw)) {
      this.report('structure', `${path}.${key}`, repeating ? `must be an array, got ${describe(raw)}` : 'must be a single value, not an array');
      return undefined;
    }
    if (!repeating) return [raw];
    if ((raw as unknown[]).length === 0) {
      this.report('structure', `${path}.${key}`, 'an array must not be empty: leave the element out');
      return undefined;
    }
    return raw as unknown[];
  }

  /** The `_key` extensions of a primitive: an Element (id, extension), or an array of them with nulls. */
  private shadows(raw: unknown, key: string, repeating: boolean, type: string, path: string): unknown[] | undefined {
    if (raw === undefined || !PRIMITIVE_TYPES.has(type)) return [];
    const list = this.items(raw, `_${key}`, repeating, path);
    const element = baseSchema('Element');
    list?.forEach((item, index) => {
      const itemPath = repeating ? `${path}._${key}[${index}]` : `${path}._${key}`;
      if (item === null) return;
      if (!isObject(item)) return this.report('structure', itemPath, `must be an object, got ${describe(item)}`);
      if (element) this.object(item, element, itemPath, {});
    });
    return list;
  }

  private value(item: unknown, element: ElementSchema, type: string, parent: ObjectSchema, path: string, resource: Json): void {
    if (PRIMITIVE_TYPES.has(type)) {
      const problem = primitiveProblem(item, type);
      if (problem) return this.report('value', path, problem);
      this.binding(item, element, type, path);
      return;
    }
    if (type === 'Resource') return this.resource(item, path);
    if (!isObject(item)) return this.report('structure', path, `must be an object (${type}), got ${describe(item)}`);
    if (Object.keys(item).length === 0) return this.report('structure', path, 'must have a value or children (ele-1): leave the element out');
    const schema = element.children ?? (element.contentReference ? parent.inline.get(element.contentReference) : undefined) ?? baseSchema(type);
    if (!schema) return;
    this.object(item, schema, path, resource);
    this.binding(item, element, type, path);
    this.invariants(element.invariants, item, path, resource);
  }

  private binding(item: unknown, element: ElementSchema, type: string, path: string): void {
    if (!element.requiredValueSet) return;
    const expansion = specExpansion(element.requiredValueSet);
    if (!expansion || inExpansion(item, type, expansion)) return;
    const shown = typeof item === 'string' ? `"${item.slice(0, 64)}"` : 'the code';
    this.report('code-invalid', path, `${shown} is not in the required value set ${element.requiredValueSet.split('|')[0]}`);
  }

  private invariants(invariants: Invariant[], node: Json, path: string, resource: Json): void {
    for (const invariant of invariants) {
      if (!invariantHolds(invariant, node, resource)) this.report('invariant', path, `${invariant.key}: ${invariant.human}`);
    }
  }
}

/** Every problem of `resource` against the R4 base definitions of its type; empty when it is valid. */
export function structureIssues(resource: Json): ValidationIssue[] {
  const walk = new Walk();
  walk.resource(resource, typeof resource.resourceType === 'string' ? resource.resourceType : 'Resource');
  return walk.issues;
}
