// engine: smart-on-fhir — allows a FHIR interaction when the SMART scopes of the token used allow it
// (as Aidbox's engine of that name). Linked to a SMART app's Client, it lets the app's scopes decide; the
// SMART gate (src/smart/gate.ts) then confines what a patient/ token sees to its patient's compartment.
// For a token issued to a user, the scopes only narrow the user's own rights (SMART App Launch: "the
// intersection of the scopes and the user's permissions"): the user's policies must allow the request too,
// unless the token is confined to the patient user's own compartment.
import { decide, type SmartRequest } from '../../smart/enforce.ts';
import { smartContextOf } from '../../smart/gate.ts';
import type { Interaction } from '../../smart/scopes.ts';
import { hasSmartResourceScopes, parseScopes, ScopeError } from '../../smart/scopes.ts';
import type { RequestObject } from '../request-object.ts';
import type { Evaluation, Rule, RuleOutcome } from '../policy.ts';
import { ownPatientOf } from '../../iam/user.ts';

const INTERACTION_OF_OPERATION: Record<string, Interaction> = {
  FhirSearch: 's',
  FhirCreate: 'c',
  FhirRead: 'r',
  FhirHistory: 'r',
  FhirVread: 'r',
  FhirUpdate: 'u',
  FhirPatch: 'u',
  FhirDelete: 'd',
};

function smartRequestOf(request: RequestObject): SmartRequest | null {
  const interaction = request.operation && INTERACTION_OF_OPERATION[request.operation.id];
  const type = request.params['resource/type'];
  if (!interaction || typeof type !== 'string') return null;
  const id = request.params['resource/id'];
  return { interaction, type, ...(typeof id === 'string' && { id }) };
}

export async function evaluateSmart(input: Evaluation): Promise<RuleOutcome> {
  const { request } = input;
  let scopes;
  try {
    scopes = parseScopes((request.scopes ?? []).join(' '));
  } catch (error) {
    if (error instanceof ScopeError) return { allowed: false, reason: error.message };
    throw error;
  }
  if (!hasSmartResourceScopes(scopes)) return { allowed: false, reason: 'the request carries no SMART resource scope' };
  const smartRequest = smartRequestOf(request);
  if (!smartRequest) return { allowed: false, reason: 'not a FHIR interaction SMART scopes can allow' };
  const decision = decide(scopes, smartRequest, smartContextOf(request));
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
