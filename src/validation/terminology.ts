// The codes a ValueSet allows, for `required` bindings. Only ValueSets that can be expanded from what is known
// (concept lists, whole CodeSystems, other ValueSets) are checked; one with a filter or an unknown CodeSystem
// has no expansion here, and its binding is not enforced rather than enforced wrongly.
import { specTerminology, type CodeSystem, type ValueSet, type ValueSetInclude } from './definitions.ts';

export type TerminologyLookup = (url: string) => ValueSet | CodeSystem | undefined;

export interface Expansion {
  /** `system|code` of every allowed code. */
  codings: Set<string>;
  /** The codes alone, for `code` elements, which carry no system. */
  codes: Set<string>;
}

const specExpansions = new Map<string, Expansion | null>();

export function canonicalUrl(url: string): string {
  return url.split('|')[0];
}

/** The expansion of a ValueSet of the spec, cached; null when it cannot be expanded. */
export function specExpansion(valueSetUrl: string): Expansion | null {
  const url = canonicalUrl(valueSetUrl);
  let expansion = specExpansions.get(url);
  if (expansion === undefined) {
    expansion = expand(url, specTerminology, new Set());
    specExpansions.set(url, expansion);
  }
  return expansion;
}

function allCodes(system: CodeSystem): string[] {
  const codes: string[] = [];
  const walk = (concepts: CodeSystem['concept']) => {
    for (const concept of concepts ?? []) {
      codes.push(concept.code);
      walk(concept.concept);
    }
  };
  walk(system.concept);
  return codes;
}

function includeCodings(include: ValueSetInclude, lookup: TerminologyLookup, seen: Set<string>): string[] | null {
  if (include.filter?.length) return null;
  const imported: string[] = [];
  for (const valueSet of include.valueSet ?? []) {
    const expansion = expand(canonicalUrl(valueSet), lookup, seen);
    if (!expansion) return null;
    imported.push(...expansion.codings);
  }
  if (!include.system) return imported;
  if (include.concept) return [...imported, ...include.concept.map((concept) => `${include.system}|${concept.code}`)];
  const system = lookup(include.system);
  if (!system || system.resourceType !== 'CodeSystem' || !system.concept) return null;
  return [...imported, ...allCodes(system).map((code) => `${include.system}|${code}`)];
}

/** Expands `url` with `lookup`; null when any part of it is unknown or needs a terminology server. */
export function expand(url: string, lookup: TerminologyLookup, seen: Set<string>): Expansion | null {
  if (seen.has(url)) return null;
  seen.add(url);
  const resource = lookup(url);
  if (!resource) return null;
  // A CodeSystem that declares itself its own ValueSet (`valueSet` = url) stands for all its codes.
  if (resource.resourceType === 'CodeSystem') {
    if (!resource.concept) return null;
    return toExpansion(allCodes(resource).map((code) => `${resource.url}|${code}`));
  }
  const codings: string[] = [];
  for (const include of resource.compose?.include ?? []) {
    const included = includeCodings(include, lookup, seen);
    if (!included) return null;
    codings.push(...included);
  }
  const excluded = new Set<string>();
  for (const exclude of resource.compose?.exclude ?? []) {
    const codes = includeCodings(exclude, lookup, seen);
    if (!codes) return null;
    for (const coding of codes) excluded.add(coding);
  }
  return toExpansion(codings.filter((coding) => !excluded.has(coding)));
}

function toExpansion(codings: string[]): Expansion {
  return { codings: new Set(codings), codes: new Set(codings.map((coding) => coding.slice(coding.indexOf('|') + 1))) };
}

/** Whether `value` (a code, Coding or CodeableConcept) is in `expansion`. */
export function inExpansion(value: unknown, typeCode: string, expansion: Expansion): boolean {
  if (typeCode === 'Coding') return codingIn(value, expansion);
  if (typeCode === 'CodeableConcept') {
    const codings = (value as { coding?: unknown[] }).coding;
    return Array.isArray(codings) && codings.some((coding) => codingIn(coding, expansion));
  }
  return typeof value !== 'string' || expansion.codes.has(value);
}

function codingIn(value: unknown, expansion: Expansion): boolean {
  const { system, code } = (value ?? {}) as { system?: unknown; code?: unknown };
  if (typeof code !== 'string') return false;
  return typeof system === 'string' ? expansion.codings.has(`${system}|${code}`) : expansion.codes.has(code);
}
