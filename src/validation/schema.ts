// A StructureDefinition's snapshot compiled into what a walk over JSON needs: per object, the JSON keys it
// may carry (choice types spelled out: value[x] → valueQuantity, valueString...), each with its cardinality,
// type, required binding and invariants. Compiled once per type, on first use.
import { baseStructure, type ElementDefinition, type ElementType } from './definitions.ts';

export interface Invariant {
  key: string;
  human: string;
  expression: string;
  /** The path the expression is evaluated from, for FHIRPath's type information (`Patient.contact`, `Period`). */
  base: string;
}

export interface ElementSchema {
  /** The name without `[x]`: `deceased` for `Patient.deceased[x]`. */
  name: string;
  /** The element's path in its definition (`Patient.contact.name`), the base of its invariants. */
  path: string;
  choice: boolean;
  min: number;
  max: number;
  types: string[];
  /** The ValueSet of a `required` binding. */
  requiredValueSet?: string;
  invariants: Invariant[];
  /** The children of an inline BackboneElement or Element. */
  children?: ObjectSchema;
  /** `#Questionnaire.item`: the children are those of another element of the same type. */
  contentReference?: string;
}

export interface ObjectSchema {
  /** Type name (`HumanName`, `Patient`) or, for an inline element, its path (`Patient.contact`). */
  name: string;
  isResource: boolean;
  elements: ElementSchema[];
  /** JSON key → its element and the type that key stands for. */
  byKey: Map<string, { element: ElementSchema; type: string }>;
  /** Invariants on the object itself (`dom-2`, `per-1`...). */
  invariants: Invariant[];
  /** Schemas of this type's inline elements by path, for content references. */
  inline: Map<string, ObjectSchema>;
}

const FHIR_TYPE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';
/**
 * Invariants not run through FHIRPath. ele-1 ("a value or children") is checked natively: an empty object or
 * array is refused wherever it is. que-7 tests `answer as Boolean`, the System type, which a FHIR `boolean`
 * never is in fhirpath.js, so it would refuse every valid `exists` condition.
 */
const SKIPPED_INVARIANTS = new Set(['ele-1', 'que-7']);

/** `http://hl7.org/fhirpath/System.String` (the type of `id` and `url` attributes) → its FHIR type. */
function typeCode(type: ElementType): string {
  if (!type.code.startsWith('http://hl7.org/fhirpath/System.')) return type.code;
  return type.extension?.find((extension) => extension.url === FHIR_TYPE_EXTENSION)?.valueUrl ?? 'string';
}

export function capitalize(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function invariantsOf(element: ElementDefinition, base: string): Invariant[] {
  return (element.constraint ?? [])
    .filter((constraint) => constraint.severity === 'error' && constraint.expression && !SKIPPED_INVARIANTS.has(constraint.key))
    .map((constraint) => ({ key: constraint.key, human: constraint.human, expression: constraint.expression!, base }));
}

export function parseMax(max: string | undefined): number {
  return max === undefined || max === '*' ? Infinity : Number(max);
}

/** Compiles the children of `rootPath` among `elements` (a snapshot), recursing into inline elements. */
export function compileObject(elements: ElementDefinition[], rootPath: string, name: string, isResource: boolean): ObjectSchema {
  const inline = new Map<string, ObjectSchema>();
  const build = (path: string, schemaName: string, root: ElementDefinition | undefined, resource: boolean): ObjectSchema => {
    const prefix = `${path}.`;
    const children = elements.filter(
      (element) => element.path.startsWith(prefix) && !element.path.slice(prefix.length).includes('.') && !element.sliceName,
    );
    const schema: ObjectSchema = {
      name: schemaName,
      isResource: resource,
      elements: [],
      byKey: new Map(),
      invariants: root ? invariantsOf(root, path) : [],
      inline,
    };
    for (const definition of children) {
      const raw = definition.path.slice(prefix.length);
      const choice = raw.endsWith('[x]');
      const types = (definition.type ?? []).map(typeCode);
      const element: ElementSchema = {
        name: choice ? raw.slice(0, -3) : raw,
        path: definition.path,
        choice,
        min: definition.min ?? 0,
        max: parseMax(definition.max),
        types,
        invariants: invariantsOf(definition, definition.path),
        ...(definition.binding?.strength === 'required' && definition.binding.valueSet && { requiredValueSet: definition.binding.valueSet }),
        ...(definition.contentReference && { contentReference: definition.contentReference.slice(definition.contentReference.indexOf('#') + 1) }),
      };
      if (types.length === 1 && (types[0] === 'BackboneElement' || types[0] === 'Element')) {
        element.children = build(definition.path, definition.path, undefined, false);
      }
      schema.elements.push(element);
      if (choice) for (const type of types) schema.byKey.set(`${element.name}${capitalize(type)}`, { element, type });
      else if (types.length > 0) schema.byKey.set(element.name, { element, type: types[0] });
      else if (element.contentReference) schema.byKey.set(element.name, { element, type: 'BackboneElement' });
    }
    inline.set(path, schema);
    return schema;
  };
  const root = elements.find((element) => element.path === rootPath);
  return build(rootPath, name, root, isResource);
}

const baseSchemas = new Map<string, ObjectSchema | null>();

/** The compiled schema of a base resource or complex data type, or null when the spec has no such type. */
export function baseSchema(typeName: string): ObjectSchema | null {
  let schema = baseSchemas.get(typeName);
  if (schema === undefined) {
    const structure = baseStructure(typeName);
    schema =
      structure && structure.kind !== 'primitive-type' && !structure.abstract
        ? compileObject(structure.snapshot?.element ?? [], structure.type, structure.type, structure.kind === 'resource')
        : typeName === 'Element' || typeName === 'BackboneElement'
          ? compileObject(structure?.snapshot?.element ?? [], typeName, typeName, false)
          : null;
    baseSchemas.set(typeName, schema);
  }
  return schema;
}
