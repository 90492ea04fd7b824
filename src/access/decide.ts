// Which policies apply to a request, and what they decide. Applicable: global policies (no link, no role),
// those linked to the request's Client, User or Operation, and those whose roleName is a Role of the user.
// They are tried in id order; the first that allows wins; if none does, the request is denied.
import type { CompiledPolicy } from './compile.ts';
import { removeEmpty } from './engines/json-schema.ts';
import type { Evaluation, RuleOutcome, SqlRunner } from './policy.ts';
import type { PolicySet } from './policy-store.ts';
import type { RequestObject } from './request-object.ts';
import type { SmartDecision } from '../smart/enforce.ts';

/** IAM types whose writes need a policy that names them: a blanket policy never grants them. */
export const PROTECTED_TYPES = new Set(['AccessPolicy', 'Client', 'User', 'Role', 'TokenIntrospector', 'IdentityProvider', 'AuthConfig', 'Session', 'Grant']);
/** Types that hold credentials (secret hashes, HMAC keys): even reading them needs a policy that names them. */
const CREDENTIAL_TYPES = new Set(['Client', 'User', 'TokenIntrospector', 'IdentityProvider']);
const WRITE_METHODS = new Set(['post', 'put', 'patch', 'delete']);
/** A type no policy can mean: a policy that allows it too allows any type, so it does not name the one asked. */
const PROBE_TYPE = 'WardenProbeType';

export interface Candidate {
  policy: CompiledPolicy;
  /** Why it applies: "global", "Client/x", "User/y", "Operation/FhirRead" or "role nurse". */
  via: string;
}

export interface CandidateResult {
  id: string;
  engine: string;
  via: string;
  allowed: boolean;
  reason?: string;
  sql?: RuleOutcome['sql'];
  parts?: RuleOutcome['parts'];
}

export interface Decision {
  allowed: boolean;
  /** The policy that allowed. */
  policy?: string;
  /** With `trace`: every candidate, in order, with its outcome. */
  results: CandidateResult[];
}

export function selectPolicies(set: PolicySet, request: RequestObject): Candidate[] {
  const chosen: Candidate[] = [];
  // A handful of candidates at most: a linear scan dedupes them faster than a Map would.
  const add = (policies: CompiledPolicy[] | undefined, via: string) => {
    if (!policies) return;
    for (const policy of policies) if (!chosen.some((c) => c.policy === policy)) chosen.push({ policy, via });
  };
  add(set.global, 'global');
  const clientId = request.client?.id;
  const userId = request.user?.id;
  if (typeof clientId === 'string') add(set.byLink.get(`Client/${clientId}`), `Client/${clientId}`);
  if (typeof userId === 'string') {
    add(set.byLink.get(`User/${userId}`), `User/${userId}`);
    for (const role of set.rolesByUser.get(userId) ?? []) add(set.byRole.get(role), `role ${role}`);
  }
  if (request.operation) add(set.byLink.get(`Operation/${request.operation.id}`), `Operation/${request.operation.id}`);
  return chosen.sort((a, b) => set.rank.get(a.policy)! - set.rank.get(b.policy)!);
}

export function isProtectedRequest(request: RequestObject): boolean {
  const type = request.params['resource/type'];
  if (typeof type !== 'string') return false;
  return CREDENTIAL_TYPES.has(type) || (WRITE_METHODS.has(request['request-method']) && PROTECTED_TYPES.has(type));
}

/** The same request aimed at a type that does not exist. */
function probeOf(request: RequestObject): RequestObject {
  const type = request.params['resource/type'] as string;
  const swap = (value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value) && 'resourceType' in value
      ? { ...value, resourceType: PROBE_TYPE }
      : value;
  return {
    ...request,
    uri: request.uri.replace(`/${type}`, `/${PROBE_TYPE}`),
    params: { ...request.params, 'resource/type': PROBE_TYPE },
    ...(request.body !== undefined && { body: swap(request.body) }),
    ...(request.resource !== undefined && { resource: swap(request.resource) }),
  };
}

function evaluation(set: PolicySet, request: RequestObject, db: SqlRunner, explain: boolean, smart?: SmartDecision): Evaluation {
  let compact: { value: unknown } | undefined;
  let userRights: Promise<boolean> | undefined;
  return {
    request,
    db,
    explain,
    ...(smart && { smart }),
    compact() {
      compact ??= { value: removeEmpty(request) };
      return compact.value;
    },
    userRights() {
      userRights ??= request.user ? decide(set, asUserAlone(request), db).then((decision) => decision.allowed) : Promise.resolve(false);
      return userRights;
    },
  };
}

/**
 * The request as the user alone makes it: without the client, the token and its scopes. What the policies allow
 * this is what the user may do whatever app they use (SMART App Launch: scopes narrow a user's rights, never widen).
 */
export function asUserAlone(request: RequestObject): RequestObject {
  const { client: _client, session: _session, jwt: _jwt, token: _token, scopes: _scopes, ...alone } = request;
  return alone;
}

export async function decide(
  set: PolicySet,
  request: RequestObject,
  db: SqlRunner,
  /**
   * trace: evaluate every candidate and record why each allowed or not (for explain and debug); smart: the
   * SMART scopes' decision the authorize step made, so no engine parses the scopes again.
   */
  options: { trace?: boolean; smart?: SmartDecision } = {},
): Promise<Decision> {
  const explain = options.trace === true;
  const input = evaluation(set, request, db, explain, options.smart);
  const protectedRequest = isProtectedRequest(request);
  const action = WRITE_METHODS.has(request['request-method']) ? 'writing' : 'reading';
  let probe: Evaluation | undefined;
  const results: CandidateResult[] = [];
  let winner: string | undefined;
  for (const { policy, via } of selectPolicies(set, request)) {
    let outcome = await policy.rule.evaluate(input);
    if (outcome.allowed && protectedRequest) {
      probe ??= evaluation(set, probeOf(request), db, false);
      const probed = await policy.rule.evaluate(probe);
      if (probed.allowed) {
        outcome = {
          allowed: false,
          reason: `allows ${action} any resource type, so it does not grant ${action} ${request.params['resource/type'] as string}: a policy must name the type`,
          sql: outcome.sql,
          parts: outcome.parts,
        };
      }
    }
    if (explain) results.push({ id: policy.id, engine: policy.engine, via, ...outcome });
    if (outcome.allowed && winner === undefined) {
      winner = policy.id;
      if (!options.trace) break;
    }
  }
  return { allowed: winner !== undefined, policy: winner, results };
}
