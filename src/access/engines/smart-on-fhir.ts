// engine: smart-on-fhir — allows a FHIR interaction when the SMART scopes of the token used allow it
// (as Aidbox's engine of that name). Linked to a SMART app's Client, it lets the app's scopes decide; the
// authorize step (src/access/authorize.ts) decides on the scopes once and confines what a patient/ token sees
// to its patient's compartment, through the store view handlers get (src/access/confined-resources.ts).
// For a token issued to a user, the scopes only narrow the user's own rights (SMART App Launch: "the
// intersection of the scopes and the user's permissions"): the user's policies must allow the request too,
// unless the token is confined to the patient user's own compartment.
import { BULK_DATA_ROUTES, FHIR_ROUTES } from '../../fhir/interactions.ts';
import { ownPatientOf } from '../../iam/user.ts';
import { decide, smartContextOf, smartScopesOf, type SmartDecision, type SmartRequest } from '../../smart/enforce.ts';
import type { ResourceScope, Scope } from '../../smart/scopes.ts';
import type { Evaluation, Rule, RuleOutcome } from '../policy.ts';
import type { RequestObject } from '../request-object.ts';

/**
 * $everything and $export read many types, each confined by the authorize step to what the scopes read of it:
 * the request itself needs a read of its anchor type (the Patient, the Group), or of any type when it has none.
 */
function bulkDecisionOf(request: RequestObject, scopes: Scope[]): SmartDecision | null {
  const route = request.operation && BULK_DATA_ROUTES.find((candidate) => candidate.operation === request.operation!.id);
  if (!route) return null;
  const id = request.params['resource/id'];
  if ('anchor' in route) return decide(scopes, { interaction: 'r', type: route.anchor, ...(typeof id === 'string' && { id }) }, smartContextOf(request));
  const reads = scopes.filter((scope): scope is ResourceScope => scope.kind === 'resource' && scope.interactions.has('r'));
  return reads.length > 0 ? { allow: true, filters: null, scopes: reads } : { allow: false, reason: 'The token has no scope that reads a resource' };
}

function smartRequestOf(request: RequestObject): SmartRequest | null {
  const route = request.operation && FHIR_ROUTES.find((candidate) => candidate.operation === request.operation!.id);
  const type = request.params['resource/type'];
  if (!route || !('smart' in route) || typeof type !== 'string') return null;
  const id = request.params['resource/id'];
  return { interaction: route.smart, type, ...(typeof id === 'string' && { id }) };
}

/** The SMART decision for a described request (POST /auth/test-policy), when authorize did not make it. */
function smartDecisionOf(request: RequestObject): SmartDecision {
  const scopes = smartScopesOf(request.scopes);
  if (scopes === null) return { allow: false, reason: 'the request carries no SMART resource scope' };
  const bulk = bulkDecisionOf(request, scopes);
  if (bulk) return bulk;
  const smartRequest = smartRequestOf(request);
  if (!smartRequest) return { allow: false, reason: 'not a FHIR interaction SMART scopes can allow' };
  return decide(scopes, smartRequest, smartContextOf(request));
}

export async function evaluateSmart(input: Evaluation): Promise<RuleOutcome> {
  const { request } = input;
  // The authorize step decided on the token's scopes once; a described request is decided here.
  const decision = input.smart ?? smartDecisionOf(request);
  if (!decision.allow) return { allowed: false, reason: decision.reason };
  if (!request.user) return { allowed: true };
  const own = ownPatientOf(request.user);
  // A patient user's token confined to their own record: their own compartment is theirs to read.
  if (own !== undefined && decision.filters?.every((filter) => filter.patient === own)) return { allowed: true };
  if (await input.userRights()) return { allowed: true };
  return { allowed: false, reason: `the scopes allow it, but no policy of User "${String(request.user.id)}" does: scopes only narrow a user's rights` };
}

export function compileSmartOnFhir(): Rule {
  return { engine: 'smart-on-fhir', evaluate: evaluateSmart };
}
