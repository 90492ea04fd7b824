// SMART App Launch 2.x scopes (§ "Scopes and Launch Context"): parsing, and the set operations the token
// service needs — what a client may be granted, and whether a later request stays within an earlier grant.
//
//   resource scopes   v1  patient/Observation.read  user/*.write  system/*.*
//                     v2  patient/Observation.rs   user/*.cruds  patient/Observation.rs?category=laboratory
//   launch context    launch  launch/patient  launch/encounter
//   identity          openid  fhirUser  profile
//   refresh tokens    offline_access  online_access
//
// Any other scope (an Aidbox custom scope, say) is kept as is and compared by equality.

/** The SMART v2 interactions, in their canonical order: create, read, update, delete, search. */
export const INTERACTIONS = ['c', 'r', 'u', 'd', 's'] as const;
export type Interaction = (typeof INTERACTIONS)[number];

export type ScopeContext = 'patient' | 'user' | 'system';

export interface ResourceScope {
  kind: 'resource';
  raw: string;
  context: ScopeContext;
  /** A FHIR resource type, or `*` for all. */
  type: string;
  interactions: ReadonlySet<Interaction>;
  /** 1 for `.read`/`.write`/`.*`, 2 for `.cruds` letters. */
  version: 1 | 2;
  /** v2 narrowing (`?category=...`): search parameters a resource must also match, all of them. */
  constraints: readonly (readonly [string, string])[];
}

export type OtherScope =
  | { kind: 'launch'; raw: string; context?: string }
  | { kind: 'openid' | 'fhirUser' | 'profile' | 'offline_access' | 'online_access'; raw: string }
  | { kind: 'other'; raw: string };

export type Scope = ResourceScope | OtherScope;

export class ScopeError extends Error {}

const V1_INTERACTIONS: Record<string, Interaction[]> = {
  read: ['r', 's'],
  write: ['c', 'u', 'd'],
  '*': ['c', 'r', 'u', 'd', 's'],
};
const RESOURCE_SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{0,63})\.(read|write|\*|c?r?u?d?s?)(?:\?(.*))?$/;
const SIMPLE: Record<string, OtherScope['kind']> = {
  openid: 'openid',
  fhirUser: 'fhirUser',
  profile: 'profile',
  offline_access: 'offline_access',
  online_access: 'online_access',
};
// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

function parseConstraints(query: string, raw: string): [string, string][] {
  const constraints: [string, string][] = [];
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1) throw new ScopeError(`Scope "${raw}" has a malformed query "${pair}": expected name=value`);
    try {
      constraints.push([decodeURIComponent(pair.slice(0, eq)), decodeURIComponent(pair.slice(eq + 1))]);
    } catch {
      throw new ScopeError(`Scope "${raw}" has a query that is not valid percent-encoding`);
    }
  }
  return constraints;
}

/** One scope token. Throws ScopeError for a token that looks like a SMART resource scope but is malformed. */
export function parseScope(raw: string): Scope {
  if (!SCOPE_TOKEN.test(raw)) throw new ScopeError(`"${raw.slice(0, 80)}" is not a valid scope token (RFC 6749 §3.3)`);
  const simple = SIMPLE[raw];
  if (simple) return { kind: simple, raw } as OtherScope;
  if (raw === 'launch') return { kind: 'launch', raw };
  if (raw.startsWith('launch/')) return { kind: 'launch', raw, context: raw.slice('launch/'.length) };
  if (!/^(patient|user|system)\//.test(raw)) return { kind: 'other', raw };
  const match = RESOURCE_SCOPE.exec(raw);
  if (!match || match[3] === '') {
    throw new ScopeError(
      `Malformed SMART scope "${raw.slice(0, 80)}": expected context/Type.(read|write|*) or context/Type.cruds (letters in that order)`,
    );
  }
  const [, context, type, access, query] = match;
  const version = access in V1_INTERACTIONS ? 1 : 2;
  if (version === 1 && query !== undefined) throw new ScopeError(`Scope "${raw}": only SMART v2 scopes (.cruds) may carry a query`);
  const interactions = new Set<Interaction>(version === 1 ? V1_INTERACTIONS[access] : (access.split('') as Interaction[]));
  const constraints = query === undefined ? [] : parseConstraints(query, raw);
  return { kind: 'resource', raw, context: context as ScopeContext, type, interactions, version, constraints };
}

/** A space-separated scope string (RFC 6749 §3.3), duplicates removed, order kept. */
export function parseScopes(value: string | undefined | null): Scope[] {
  if (!value) return [];
  const seen = new Set<string>();
  const scopes: Scope[] = [];
  for (const raw of value.split(' ')) {
    if (raw === '' || seen.has(raw)) continue;
    seen.add(raw);
    scopes.push(parseScope(raw));
  }
  return scopes;
}

export function formatScopes(scopes: readonly Scope[]): string {
  return scopes.map((scope) => scope.raw).join(' ');
}

export const isResourceScope = (scope: Scope): scope is ResourceScope => scope.kind === 'resource';

/** True when a token with these scopes is subject to SMART enforcement: it carries a resource scope. */
export function hasSmartResourceScopes(scopes: readonly Scope[]): boolean {
  return scopes.some(isResourceScope);
}

function constraintKey([name, value]: readonly [string, string]): string {
  return `${name}=${value}`;
}

/** The canonical v2 text of a resource scope. */
export function formatResourceScope(
  context: ScopeContext,
  type: string,
  interactions: ReadonlySet<Interaction>,
  constraints: readonly (readonly [string, string])[],
): string {
  const letters = INTERACTIONS.filter((letter) => interactions.has(letter)).join('');
  const query = constraints.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join('&');
  return `${context}/${type}.${letters}${query ? `?${query}` : ''}`;
}

/**
 * What both scopes allow, or null when nothing. Each scope's constraints must all hold, so the result
 * carries both sets. When the result is exactly `a`, `a` itself is returned, so a v1 scope an app asked
 * for comes back spelled as it asked.
 */
export function intersectResourceScopes(a: ResourceScope, b: ResourceScope): ResourceScope | null {
  if (a.context !== b.context) return null;
  if (a.type !== b.type && a.type !== '*' && b.type !== '*') return null;
  const type = a.type === '*' ? b.type : a.type;
  const interactions = new Set(INTERACTIONS.filter((letter) => a.interactions.has(letter) && b.interactions.has(letter)));
  if (interactions.size === 0) return null;
  const keys = new Set(a.constraints.map(constraintKey));
  const constraints = [...a.constraints, ...b.constraints.filter((constraint) => !keys.has(constraintKey(constraint)))];
  if (type === a.type && interactions.size === a.interactions.size && constraints.length === a.constraints.length) return a;
  if (type === b.type && interactions.size === b.interactions.size && constraints.length === b.constraints.length) return b;
  const raw = formatResourceScope(a.context, type, interactions, constraints);
  return { kind: 'resource', raw, context: a.context, type, interactions, version: 2, constraints };
}

/** True when everything `inner` allows, `outer` allows too. */
export function resourceScopeCovers(outer: ResourceScope, inner: ResourceScope): boolean {
  if (outer.context !== inner.context) return false;
  if (outer.type !== '*' && outer.type !== inner.type) return false;
  for (const letter of inner.interactions) if (!outer.interactions.has(letter)) return false;
  // Fewer constraints allow more: every constraint of the outer scope must also narrow the inner one.
  const innerKeys = new Set(inner.constraints.map(constraintKey));
  return outer.constraints.every((constraint) => innerKeys.has(constraintKey(constraint)));
}

/** True when scope `inner` is within the set `outer` (a resource scope within one of them; others by name). */
export function scopeCoveredBy(inner: Scope, outer: readonly Scope[]): boolean {
  if (inner.kind !== 'resource') return outer.some((scope) => scope.raw === inner.raw);
  return outer.some((scope) => scope.kind === 'resource' && resourceScopeCovers(scope, inner));
}

/** The scopes of `requested` not within `granted`: empty when a refresh (or a narrower token) may have them. */
export function scopesBeyond(requested: readonly Scope[], granted: readonly Scope[]): Scope[] {
  return requested.filter((scope) => !scopeCoveredBy(scope, granted));
}

/**
 * The part of `requested` that `allowed` permits: each resource scope intersected with each allowed one,
 * other scopes kept when allowed by name. `allowed` undefined means no limit from that side.
 */
export function intersectScopes(requested: readonly Scope[], allowed: readonly Scope[] | undefined): Scope[] {
  if (allowed === undefined) return [...requested];
  const result: Scope[] = [];
  const seen = new Set<string>();
  const add = (scope: Scope) => {
    if (seen.has(scope.raw)) return;
    seen.add(scope.raw);
    result.push(scope);
  };
  for (const scope of requested) {
    if (scope.kind !== 'resource') {
      if (allowed.some((other) => other.raw === scope.raw)) add(scope);
      continue;
    }
    for (const other of allowed) {
      if (other.kind !== 'resource') continue;
      const both = intersectResourceScopes(scope, other);
      if (both) add(both);
    }
  }
  // A scope implied by a broader one in the same result adds nothing; drop it so the answer stays readable.
  return result.filter(
    (scope) =>
      scope.kind !== 'resource' ||
      !result.some((other) => other !== scope && other.kind === 'resource' && resourceScopeCovers(other, scope) && !resourceScopeCovers(scope, other)),
  );
}

/**
 * The scopes a token gets (SMART App Launch 2.x: the server may grant fewer than asked): what the app asked
 * for, limited by what the Client may have (`Client.scope`) and by what the user consented to.
 */
export function grantedScopes(input: {
  requested: readonly Scope[];
  clientAllowed?: readonly Scope[];
  consented?: readonly Scope[];
}): Scope[] {
  return intersectScopes(intersectScopes(input.requested, input.clientAllowed), input.consented);
}

/** The launch-context names requested (`launch/patient` → `patient`). */
export function requestedLaunchContexts(scopes: readonly Scope[]): Set<string> {
  const names = new Set<string>();
  for (const scope of scopes) if (scope.kind === 'launch' && scope.context) names.add(scope.context);
  return names;
}

/**
 * A request's scopes against the list a Client may have: SMART resource scopes are narrowed to what the list
 * allows (patient/*.read asked, patient/Observation.rs allowed: patient/Observation.rs granted); a scope that
 * overlaps nothing allowed, like any other scope the list does not name, is refused.
 */
export function narrowToAllowed(requested: readonly Scope[], allowed: readonly Scope[]): { granted: Scope[]; refused: Scope[] } {
  const refused = requested.filter((scope) => intersectScopes([scope], allowed).length === 0);
  return { granted: intersectScopes(requested, allowed), refused };
}
