// FHIRPath Patch (FHIR R4 §2.1.0.5.4, fhirpatch.html): a Parameters resource whose `operation` parameters each
// name a type (add, insert, delete, replace, move) and a FHIRPath `path`, with `name`, `value[x]`, `index`,
// `source`, `destination` as the type needs. The path is evaluated by the fhirpath library on a copy of the
// resource; each node it finds knows its parent, property and index, which is where the operation writes.
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import { badRequest, unprocessable } from '../fhir/outcome.ts';
import type { Resource } from '../store/resource-store.ts';
import { baseStructure } from '../validation/definitions.ts';

/** A node fhirpath evaluates to, with `resolveInternalTypes: false`. */
interface PathNode {
  data: unknown;
  parentResNode: PathNode | null;
  path: string | null;
  fhirNodeDataType: string | null;
  propName: string | null;
  index: number | null;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Whether the body is a FHIRPath Patch rather than a merge patch. */
export function isFhirPathPatch(patch: unknown): boolean {
  return isObject(patch) && patch.resourceType === 'Parameters';
}

function nodesAt(resource: Resource, path: string, operation: number): PathNode[] {
  try {
    return fhirpath.evaluate(resource, path, undefined, r4, { resolveInternalTypes: false }) as PathNode[];
  } catch (error) {
    throw badRequest(`FHIRPath Patch operation ${operation}: invalid path "${path.slice(0, 200)}": ${(error as Error).message.split('\n')[0]}`, 'invalid');
  }
}

/** A Parameters part's value: its value[x], or an element made of its own parts (a backbone element). */
function valueOf(part: Json): unknown {
  const key = Object.keys(part).find((name) => name.startsWith('value'));
  if (key !== undefined) return part[key];
  if (Array.isArray(part.part)) {
    const element: Json = {};
    for (const child of part.part as Json[]) if (isObject(child) && typeof child.name === 'string') element[child.name] = valueOf(child);
    return element;
  }
  return undefined;
}

/** Whether the element `name` of `container` repeats (max "*"), from the base definitions; undefined if unknown. */
function repeats(container: PathNode, name: string): boolean | undefined {
  const candidates: [string | undefined, string][] = [
    [container.path?.split('.')[0], `${container.path}.${name}`],
    [container.fhirNodeDataType ?? undefined, `${container.fhirNodeDataType}.${name}`],
  ];
  for (const [type, path] of candidates) {
    const element = type ? baseStructure(type)?.snapshot?.element.find((candidate) => candidate.path === path) : undefined;
    if (element) return element.max === '*';
  }
  return undefined;
}

/** The list `nodes` are the items of (they share one parent and property). */
function listOf(nodes: PathNode[], fail: (message: string) => never): { owner: Json; name: string; list: unknown[] } {
  const first = nodes[0];
  const owner = first?.parentResNode?.data;
  if (!first || !isObject(owner) || first.propName === null) fail('the path names no list');
  const list = owner[first.propName];
  if (!Array.isArray(list)) fail('the path names no list');
  return { owner, name: first.propName, list };
}

function integerPart(parts: Map<string, Json>, name: string, fail: (message: string) => never): number {
  const value = parts.get(name)?.valueInteger;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) fail(`needs ${name} (a valueInteger of 0 or more)`);
  return value;
}

/** Applies a FHIRPath Patch to `current`; the caller re-checks the result like any other body. */
export function applyFhirPathPatch(current: Resource, patch: unknown): unknown {
  const parameters = (patch as Json).parameter;
  if (!Array.isArray(parameters)) throw badRequest('A FHIRPath Patch is a Parameters resource with operation parameters', 'structure');
  const resource = structuredClone(current);
  parameters.forEach((parameter: unknown, operation) => {
    const fail = (message: string): never => {
      throw unprocessable(`FHIRPath Patch operation ${operation}: ${message}`);
    };
    if (!isObject(parameter) || parameter.name !== 'operation' || !Array.isArray(parameter.part)) fail('each parameter must be an "operation" with parts');
    const parts = new Map<string, Json>();
    for (const part of (parameter as Json).part as unknown[]) if (isObject(part) && typeof part.name === 'string') parts.set(part.name, part);
    const type = parts.get('type')?.valueCode;
    const path = parts.get('path')?.valueString;
    if (typeof path !== 'string' || path === '') fail('needs a path (valueString)');
    const nodes = nodesAt(resource, path as string, operation);
    const value = parts.has('value') ? valueOf(parts.get('value')!) : undefined;
    const needValue = () => (value === undefined ? fail('needs a value') : value);
    switch (type) {
      case 'add': {
        const name = parts.get('name')?.valueString;
        if (typeof name !== 'string' || name === '') fail('needs a name (valueString)');
        if (nodes.length !== 1 || !isObject(nodes[0].data)) fail(`the path must name one element to add to, it names ${nodes.length}`);
        const container = nodes[0].data as Json;
        const existing = container[name as string];
        if (Array.isArray(existing)) existing.push(needValue());
        else if (existing !== undefined) fail(`${name} is already set: use replace`);
        else container[name as string] = repeats(nodes[0], name as string) ? [needValue()] : needValue();
        break;
      }
      case 'insert': {
        const { list } = listOf(nodes, fail);
        const index = integerPart(parts, 'index', fail);
        if (index > list.length) fail(`index ${index} is past the end of the list (${list.length})`);
        list.splice(index, 0, needValue());
        break;
      }
      case 'delete': {
        if (nodes.length > 1) fail(`the path must name at most one element, it names ${nodes.length}`);
        const [node] = nodes;
        const owner = node?.parentResNode?.data;
        if (!node || !isObject(owner) || node.propName === null) break; // nothing there: nothing to delete
        const held = owner[node.propName];
        if (Array.isArray(held) && node.index !== null) {
          held.splice(node.index, 1);
          if (held.length === 0) delete owner[node.propName];
        } else delete owner[node.propName];
        break;
      }
      case 'replace': {
        if (nodes.length !== 1) fail(`the path must name one element, it names ${nodes.length}`);
        const [node] = nodes;
        const owner = node.parentResNode?.data;
        if (!isObject(owner) || node.propName === null) fail('the path names no element that can be replaced');
        const held = (owner as Json)[node.propName!];
        if (Array.isArray(held) && node.index !== null) held[node.index] = needValue();
        else (owner as Json)[node.propName!] = needValue();
        break;
      }
      case 'move': {
        const { list } = listOf(nodes, fail);
        const source = integerPart(parts, 'source', fail);
        const destination = integerPart(parts, 'destination', fail);
        if (source >= list.length || destination >= list.length) fail(`source and destination must be within the list (${list.length})`);
        const [moved] = list.splice(source, 1);
        list.splice(destination, 0, moved);
        break;
      }
      default:
        fail(`type must be add, insert, delete, replace or move, got "${String(type).slice(0, 40)}"`);
    }
  });
  return resource;
}
