// FHIRPath invariants of the base definitions (`dom-3`, `pat-1`, `per-1`...), compiled once each with fhirpath.js.
// An invariant the library cannot compile or run (an unsupported function) is skipped rather than
// reported against a resource that may well be valid.
import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4/index.js';
import type { Invariant } from './schema.ts';

type Compiled = (node: unknown, env: Record<string, unknown>) => unknown[];

const compiled = new Map<string, Compiled | null>();

function compile(invariant: Invariant): Compiled | null {
  const cacheKey = `${invariant.base}|${invariant.key}|${invariant.expression}`;
  let fn = compiled.get(cacheKey);
  if (fn === undefined) {
    try {
      fn = fhirpath.compile({ base: invariant.base, expression: invariant.expression }, r4Model, { traceFn: () => {} }) as unknown as Compiled;
    } catch {
      fn = null;
    }
    compiled.set(cacheKey, fn);
  }
  return fn;
}

/** False only when the invariant evaluates to false on `node`; empty, true or unrunnable count as held. */
export function invariantHolds(invariant: Invariant, node: unknown, resource: unknown): boolean {
  const fn = compile(invariant);
  if (!fn) return true;
  try {
    const result = fn(node, { resource, rootResource: resource });
    return !(result.length === 1 && result[0] === false);
  } catch {
    return true;
  }
}
