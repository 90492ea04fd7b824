// engine: smart-on-fhir — allows a FHIR interaction when the SMART scopes of the token used allow it
// (as Aidbox's engine of that name). Linked to a SMART app's Client, it lets the app's scopes decide; the
// SMART gate (src/smart/gate.ts) then confines what a patient/ token sees to its patient's compartment.
import { decide, type SmartRequest } from '../../smart/enforce.ts';
import { smartContextOf } from '../../smart/gate.ts';
import type { Interaction } from '../../smart/scopes.ts';
import { hasSmartResourceScopes, parseScopes, ScopeError } from '../../smart/scopes.ts';
import type { RequestObject } from '../request-object.ts';
import type { Rule, RuleOutcome } from '../policy.ts';

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

export function evaluateSmart(request: RequestObject): RuleOutcome {
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
  return decision.allow ? { allowed: true } : { allowed: false, reason: decision.reason };
}

export function compileSmartOnFhir(): Rule {
  return { engine: 'smart-on-fhir', evaluate: (input) => evaluateSmart(input.request) };
}
