// The SMART decision for one FHIR request: do the token's resource scopes allow this interaction on this
// type, and if they do, which resources may it see. `patient/` scopes confine the token to its patient's
// compartment; v2 scope queries (`?category=...`) narrow further. `user/` and `system/` scopes add no
// confinement of their own: what a user may see beyond that is for AccessPolicies to say.
import { hasSmartResourceScopes, parseScopes, ScopeError, type Interaction, type ResourceScope, type Scope } from './scopes.ts';

/** A FHIR interaction as SMART names it: one of c r u d s on a type (and an instance for r u d). */
export interface SmartRequest {
  interaction: Interaction;
  type: string;
  id?: string;
}

/** What the token says beyond its scopes: the launch context it was issued in. */
export interface SmartContext {
  patient?: string;
}

/** One way a resource may be visible: in the patient's compartment (when set) and matching every constraint. */
export interface VisibilityFilter {
  patient?: string;
  constraints: readonly (readonly [string, string])[];
}

export type SmartDecision =
  | { allow: false; reason: string }
  /** `filters` null: every resource of the type; otherwise a resource must match one of them. */
  | { allow: true; filters: VisibilityFilter[] | null; scopes: ResourceScope[] };

function describe(request: SmartRequest): string {
  const names: Record<Interaction, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };
  return `${names[request.interaction]} ${request.type}`;
}

export function decide(scopes: readonly Scope[], request: SmartRequest, context: SmartContext): SmartDecision {
  const applicable = scopes.filter(
    (scope): scope is ResourceScope =>
      scope.kind === 'resource' &&
      (scope.type === '*' || scope.type === request.type) &&
      scope.interactions.has(request.interaction),
  );
  if (applicable.length === 0) {
    return { allow: false, reason: `The token's scopes do not allow ${describe(request)}` };
  }
  const filters: VisibilityFilter[] = [];
  let unrestricted = false;
  let lastReason = '';
  for (const scope of applicable) {
    if (scope.context === 'patient') {
      // A patient scope without a patient in the token's context confines to nothing (SMART: launch/patient).
      if (!context.patient) {
        lastReason = `Scope "${scope.raw}" needs a patient in the launch context, and the token has none`;
        continue;
      }
      filters.push({ patient: context.patient, constraints: scope.constraints });
    } else if (scope.constraints.length > 0) {
      filters.push({ constraints: scope.constraints });
    } else {
      unrestricted = true;
    }
  }
  if (unrestricted) return { allow: true, filters: null, scopes: applicable };
  if (filters.length === 0) return { allow: false, reason: lastReason };
  return { allow: true, filters: dedupe(filters), scopes: applicable };
}

function dedupe(filters: VisibilityFilter[]): VisibilityFilter[] {
  const seen = new Set<string>();
  return filters.filter((filter) => {
    const key = JSON.stringify(filter);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The launch context a token was issued in: its Session's (kept across refreshes), or a `patient` claim. */
export function smartContextOf(identity: { jwt?: Record<string, unknown>; session?: Record<string, unknown> }): SmartContext {
  const launch = identity.session?.launch as { patient?: unknown } | undefined;
  if (typeof launch?.patient === 'string' && launch.patient) return { patient: launch.patient };
  const claim = identity.jwt?.patient;
  if (typeof claim === 'string' && claim) return { patient: claim };
  return {};
}

/** A token's granted scopes, parsed, when it is a SMART token (it has resource scopes); null otherwise. */
export function smartScopesOf(granted: readonly string[] | undefined): Scope[] | null {
  if (!granted || granted.length === 0) return null;
  let scopes: Scope[];
  try {
    scopes = parseScopes(granted.join(' '));
  } catch (error) {
    if (!(error instanceof ScopeError)) throw error;
    // A token we issued with a scope we cannot read confines to nothing rather than to everything.
    return [];
  }
  return hasSmartResourceScopes(scopes) ? scopes : null;
}
