// Profiles stored in Warden as StructureDefinitions (a US Core profile, say): a resource that claims one in
// `meta.profile`, or is `$validate`d against one, must meet its constraints on top of the base definitions:
// cardinality (min/max), fixed[x] and pattern[x] values, type restrictions of choices, and required bindings.
// Slices are not evaluated (their discriminators need more than this walk); this is said in the README.
import type { ResourceStore, Resource } from '../store/resource-store.ts';
import { baseStructure, specTerminology, type CodeSystem, type ElementDefinition, type StructureDefinition, type ValueSet } from './definitions.ts';
import type { ValidationIssue } from './issues.ts';
import { capitalize, parseMax } from './schema.ts';
import { canonicalUrl, expand, inExpansion, specExpansion, type Expansion } from './terminology.ts';

const CORE_PREFIX = 'http://hl7.org/fhir/StructureDefinition/';

interface ProfileRule {
  /** `Patient.name.family`, choices kept as `value[x]`. */
  path: string;
  min: number;
  max: number;
  fixed?: unknown;
  pattern?: unknown;
  types?: string[];
  requiredValueSet?: string;
  expansion?: Expansion | null;
}

interface CompiledProfile {
  url: string;
  type: string;
  baseDefinition?: string;
  rules: ProfileRule[];
}

type Json = Record<string, unknown>;

/** A stored profile is compiled once per version; a new version of it (or of nothing else) is compiled again. */
const compiledProfiles = new Map<string, CompiledProfile>();

async function byUrl(store: ResourceStore, type: string, url: string): Promise<Resource | undefined> {
  const { resources } = await store.search(type, {
    count: 1,
    offset: 0,
    sort: '-lastUpdated',
    total: false,
    filters: [(bind) => `resource->>'url' = ${bind(url)}`],
  });
  return resources[0];
}

function valueOf(element: ElementDefinition, prefix: 'fixed' | 'pattern'): unknown {
  const key = Object.keys(element).find((name) => name.startsWith(prefix) && name.length > prefix.length);
  return key === undefined ? undefined : element[key];
}

/** The stored terminology a profile's required bindings need, looked up before the (synchronous) expansion. */
async function storedExpansion(store: ResourceStore, url: string): Promise<Expansion | null> {
  const spec = specExpansion(url);
  if (spec) return spec;
  const known = new Map<string, ValueSet | CodeSystem>();
  const fetch = async (canonical: string) => {
    const stored = (await byUrl(store, 'ValueSet', canonical)) ?? (await byUrl(store, 'CodeSystem', canonical));
    if (stored) known.set(canonical, stored as unknown as ValueSet | CodeSystem);
    return stored as unknown as ValueSet | CodeSystem | undefined;
  };
  const valueSet = await fetch(canonicalUrl(url));
  if (valueSet?.resourceType === 'ValueSet') {
    for (const include of [...(valueSet.compose?.include ?? []), ...(valueSet.compose?.exclude ?? [])]) {
      if (include.system && !specTerminology(include.system) && !include.concept) await fetch(include.system);
    }
  }
  return expand(canonicalUrl(url), (canonical) => known.get(canonical) ?? specTerminology(canonical), new Set());
}

/**
 * The elements a profile constrains: its differential, or else what its snapshot says beyond the base
 * definition (the structure walk checks the base already, and would otherwise report every problem twice).
 */
function constrainedElements(structure: StructureDefinition): ElementDefinition[] {
  if (structure.differential?.element?.length) return structure.differential.element;
  const base = new Map((baseStructure(structure.type)?.snapshot?.element ?? []).map((element) => [element.path, element]));
  return (structure.snapshot?.element ?? []).map((element) => {
    const core = base.get(element.path);
    if (!core) return element;
    const sameBinding = core.binding?.strength === 'required' && canonicalUrl(core.binding.valueSet ?? '') === canonicalUrl(element.binding?.valueSet ?? '');
    return {
      ...element,
      min: (element.min ?? 0) > (core.min ?? 0) ? element.min : 0,
      max: parseMax(element.max) < parseMax(core.max) ? element.max : '*',
      binding: sameBinding ? undefined : element.binding,
      type: element.type?.length !== core.type?.length ? element.type : undefined,
    };
  });
}

async function compileProfile(store: ResourceStore, structure: StructureDefinition): Promise<CompiledProfile> {
  const rules: ProfileRule[] = [];
  for (const element of constrainedElements(structure)) {
    // Slices and what is inside them are left to a slicing-aware validator.
    if (!element.path.includes('.') || element.sliceName || element.id?.includes(':')) continue;
    const rule: ProfileRule = { path: element.path, min: element.min ?? 0, max: parseMax(element.max) };
    const fixed = valueOf(element, 'fixed');
    const pattern = valueOf(element, 'pattern');
    if (fixed !== undefined) rule.fixed = fixed;
    if (pattern !== undefined) rule.pattern = pattern;
    if (element.path.endsWith('[x]') && element.type?.length) rule.types = element.type.map((type) => type.code);
    if (element.binding?.strength === 'required' && element.binding.valueSet) {
      rule.requiredValueSet = element.binding.valueSet;
      rule.expansion = await storedExpansion(store, element.binding.valueSet);
    }
    const constrains = rule.min > 0 || rule.max < Infinity || 'fixed' in rule || 'pattern' in rule || rule.types || rule.requiredValueSet;
    if (constrains) rules.push(rule);
  }
  return { url: structure.url, type: structure.type, baseDefinition: structure.baseDefinition, rules };
}

async function loadProfile(store: ResourceStore, url: string): Promise<CompiledProfile | undefined> {
  const stored = await byUrl(store, 'StructureDefinition', canonicalUrl(url));
  if (!stored) return undefined;
  const key = `${stored.id}|${stored.meta?.versionId ?? ''}`;
  let profile = compiledProfiles.get(key);
  if (!profile) {
    profile = await compileProfile(store, stored as unknown as StructureDefinition);
    compiledProfiles.set(key, profile);
  }
  return profile;
}

interface Node {
  value: unknown;
  expression: string;
}

/** The values of `name` in each parent node; a choice (`value[x]`) matches whichever `valueXxx` is present. */
function children(parent: Node, name: string): { key: string; nodes: Node[] } {
  const object = parent.value as Json;
  let key = name;
  if (name.endsWith('[x]')) {
    const stem = name.slice(0, -3);
    key = Object.keys(object).find((candidate) => candidate.startsWith(stem) && /^[A-Z]/.test(candidate.slice(stem.length))) ?? stem;
  }
  const raw = object[key];
  if (raw === undefined) return { key, nodes: [] };
  if (!Array.isArray(raw)) return { key, nodes: [{ value: raw, expression: `${parent.expression}.${key}` }] };
  return { key, nodes: raw.map((value, index) => ({ value, expression: `${parent.expression}.${key}[${index}]` })) };
}

function nodesAt(resource: Json, path: string): Node[] {
  const [, ...segments] = path.split('.');
  let nodes: Node[] = [{ value: resource, expression: String(resource.resourceType) }];
  for (const segment of segments) {
    nodes = nodes.flatMap((node) => (typeof node.value === 'object' && node.value !== null ? children(node, segment).nodes : []));
  }
  return nodes;
}

/** FHIR's pattern[x]: every property of the pattern is in the value; each array item of the pattern matches one item of it. */
function matchesPattern(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) return Array.isArray(value) && pattern.every((item) => value.some((candidate) => matchesPattern(candidate, item)));
  if (typeof pattern === 'object' && pattern !== null) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    return Object.entries(pattern).every(([key, expected]) => matchesPattern((value as Json)[key], expected));
  }
  return value === pattern;
}

function sameValue(value: unknown, fixed: unknown): boolean {
  return JSON.stringify(value) === JSON.stringify(fixed) || (matchesPattern(value, fixed) && matchesPattern(fixed, value));
}

function checkRule(resource: Json, profile: CompiledProfile, rule: ProfileRule, issues: ValidationIssue[]): void {
  const report = (code: ValidationIssue['code'], expression: string, message: string) =>
    issues.push({ severity: 'error', code, diagnostics: `${expression}: ${message} (profile ${profile.url})`, expression: [expression] });
  const parentPath = rule.path.slice(0, rule.path.lastIndexOf('.'));
  const name = rule.path.slice(rule.path.lastIndexOf('.') + 1);
  for (const parent of nodesAt(resource, parentPath)) {
    if (typeof parent.value !== 'object' || parent.value === null) continue;
    const { key, nodes } = children(parent, name);
    const where = `${parent.expression}.${key}`;
    if (nodes.length < rule.min) report('required', where, `${name} is required by the profile (minimum cardinality ${rule.min})`);
    if (nodes.length > rule.max) report('structure', where, rule.max === 0 ? `${name} is not allowed by the profile` : `allows at most ${rule.max} value(s), has ${nodes.length}`);
    if (rule.types && nodes.length > 0 && !rule.types.some((type) => key === `${name.slice(0, -3)}${capitalize(type)}`)) {
      report('structure', where, `the profile allows ${name} only as ${rule.types.join(', ')}`);
    }
    for (const node of nodes) {
      if (rule.fixed !== undefined && !sameValue(node.value, rule.fixed)) report('value', node.expression, `must be exactly ${JSON.stringify(rule.fixed).slice(0, 200)}`);
      if (rule.pattern !== undefined && !matchesPattern(node.value, rule.pattern)) report('value', node.expression, `must match the pattern ${JSON.stringify(rule.pattern).slice(0, 200)}`);
      if (rule.expansion) {
        const type = typeof node.value === 'string' ? 'code' : Array.isArray((node.value as Json)?.coding) ? 'CodeableConcept' : 'Coding';
        if (!inExpansion(node.value, type, rule.expansion)) report('code-invalid', node.expression, `is not in the required value set ${canonicalUrl(rule.requiredValueSet!)}`);
      }
    }
  }
}

function isCoreProfile(url: string): boolean {
  return canonicalUrl(url).startsWith(CORE_PREFIX) && !canonicalUrl(url).slice(CORE_PREFIX.length).includes('/');
}

/**
 * The problems of `resource` against the profiles at `urls` and, in turn, the stored profiles they derive from.
 * A profile that is not stored is `unknown` to the caller, who decides whether that is an error.
 */
export async function profileIssues(store: ResourceStore, resource: Json, urls: string[]): Promise<{ issues: ValidationIssue[]; unknown: string[] }> {
  const issues: ValidationIssue[] = [];
  const unknown: string[] = [];
  const seen = new Set<string>();
  const queue = [...urls];
  while (queue.length > 0) {
    const url = canonicalUrl(queue.shift()!);
    // The base definitions of the spec are checked by the structure walk already.
    if (seen.has(url) || isCoreProfile(url)) continue;
    seen.add(url);
    const profile = await loadProfile(store, url);
    if (!profile) {
      unknown.push(url);
      continue;
    }
    if (profile.type !== resource.resourceType) {
      issues.push({
        severity: 'error',
        code: 'invalid',
        diagnostics: `${String(resource.resourceType)}.meta.profile: profile ${url} is for ${profile.type}, not ${String(resource.resourceType)}`,
        expression: [`${String(resource.resourceType)}.meta.profile`],
      });
      continue;
    }
    for (const rule of profile.rules) checkRule(resource, profile, rule, issues);
    if (profile.baseDefinition) queue.push(profile.baseDefinition);
  }
  return { issues, unknown };
}
