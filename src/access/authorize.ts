// Step 3 of the pipeline, the one authorization step: may the caller do this, and within which confinement.
//   1. SMART scopes (no I/O): a FHIR interaction the token's scopes do not allow is 403 insufficient_scope;
//      those that allow it may confine what is seen (patient compartment, scope narrowing)
//   2. AccessPolicies (decide.ts), on one request object: the first that allows wins; none: 401 without an
//      identity, 403 with one. The root client passes (it is the admin), its scopes still confining.
// The answer, `request.access`, carries the confinement; handlers get a store view that applies it
// (confined-resources.ts), so nothing after this step decides again.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Identity } from '../authn/identity.ts';
import type { AppContext } from '../context.ts';
import { BASIC_CHALLENGE } from '../http/challenges.ts';
import { fhirRouteOf, interactionAt, type InteractionRequest } from '../fhir/interactions.ts';
import { badRequest, FhirError, forbidden, insufficientScope, unauthorized } from '../fhir/outcome.ts';
import { denialEvent } from '../audit/event.ts';
import { noteDenial, recordAudit } from '../audit/scope.ts';
import { decide as decideScopes, smartContextOf, smartScopesOf, type SmartDecision } from '../smart/enforce.ts';
import type { Access } from './access.ts';
import type { Confinement } from './confined-resources.ts';
import { decide } from './decide.ts';
import { debugRequested, mayDebug, traceOf } from './explain.ts';
import { rolesOf } from './policy-store.ts';
import { isRoot } from './root.ts';
import { buildRequestObject, describeRequest, routeOf, type RequestDescription } from './request-object.ts';
import type { SqlRunner } from './policy.ts';
import { sqlRunner } from './sql-runner.ts';
import { policyDecisionSeconds } from '../observe/metrics.ts';

/**
 * What a SMART token's scopes say of the request: for a FHIR interaction, the decision on it; for any other
 * entry point (POST /auth/launch, the policy debugger...), a confinement that lets it see, of each type, what
 * its scopes would let it read. Nothing for a token without resource scopes.
 */
function scopeDecision(
  identity: Identity | null,
  interaction: InteractionRequest | null,
): { smart?: SmartDecision; confinement: Confinement | null } {
  const scopes = smartScopesOf(identity?.scopes);
  if (!identity || scopes === null) return { confinement: null };
  const context = smartContextOf(identity);
  if (!interaction?.smart) {
    const readable = (type: string) => {
      const decision = decideScopes(scopes, { interaction: 'r', type }, context);
      return decision.allow ? decision.filters : [];
    };
    return { confinement: { visibility: readable } };
  }
  const request = { interaction: interaction.smart, type: interaction.type, ...(interaction.id !== undefined && { id: interaction.id }) };
  const smart = decideScopes(scopes, request, context);
  return { smart, confinement: smart.allow && smart.filters ? { visibility: smart.filters } : null };
}

/**
 * The one decision: denied (throws the FHIR error to answer with) or allowed with a confinement. Every denial
 * is an AuditEvent (BALP authorization decision) with the reason, and the reason goes on the request's log line.
 */
export async function authorize(
  ctx: AppContext,
  runner: SqlRunner,
  identity: Identity | null,
  interaction: InteractionRequest | null,
  described: RequestDescription,
): Promise<Access> {
  try {
    return await decideAccess(ctx, runner, identity, interaction, described);
  } catch (error) {
    if (error instanceof FhirError) recordDenial(error, interaction, described);
    throw error;
  }
}

function recordDenial(error: FhirError, interaction: InteractionRequest | null, described: RequestDescription): void {
  noteDenial(error.message);
  recordAudit((actor) =>
    denialEvent(
      {
        ...(interaction && { interaction: interaction.interaction, type: interaction.type, ...(interaction.id !== undefined && { id: interaction.id }) }),
        method: described.method,
        path: described.url.split('?')[0],
        status: error.status,
        reason: error.message,
      },
      actor,
    ),
  );
}

async function decideAccess(
  ctx: AppContext,
  runner: SqlRunner,
  identity: Identity | null,
  interaction: InteractionRequest | null,
  described: RequestDescription,
): Promise<Access> {
  const { smart, confinement } = scopeDecision(identity, interaction);
  if (smart && !smart.allow) throw insufficientScope(smart.reason);
  if (isRoot(ctx, identity)) return { by: 'root', confinement };

  const set = await ctx.policies.fresh();
  const object = buildRequestObject({ ...described, roles: rolesOf(set, identity) });
  const stopTimer = policyDecisionSeconds.startTimer();
  const decision = await decide(set, object, runner, smart && { smart });
  stopTimer({ allowed: String(decision.allowed) });
  if (decision.allowed) return { by: `policy ${decision.policy!}`, confinement };
  const what = `${described.method} ${object.uri}`;
  if (!identity) throw unauthorized(`Authentication required for ${what}`, BASIC_CHALLENGE);
  const who = identity.user ? `User "${String(identity.user.id)}"` : `Client "${identity.client.id}"`;
  throw forbidden(`${who} is not allowed to ${what}: no access policy allows it`);
}

/**
 * A request that is not received but carried inside another (a Bundle entry, the search a conditional write
 * makes): matched against the same route table as the router, and decided by `authorize` as if it came alone.
 * `described.url` is the path and query, with a leading slash.
 */
export async function authorizeDescribed(
  ctx: AppContext,
  runner: SqlRunner,
  identity: Identity | null,
  described: RequestDescription,
): Promise<Access> {
  const queryAt = described.url.indexOf('?');
  const path = queryAt < 0 ? described.url : described.url.slice(0, queryAt);
  const { route, params } = routeOf(described.method, path);
  const interaction = interactionAt(fhirRouteOf(described.method, route), params);
  if (!interaction) throw badRequest(`${described.method} ${path.slice(0, 100)} is not a FHIR interaction this server answers`, 'not-supported');
  return authorize(ctx, runner, identity, interaction, { ...described, identity, ...(route !== undefined && { route }), routeParams: params });
}

/** The authorize step as a hook: reads the interaction the route was declared with, leaves `request.access`. */
export function authorizer(ctx: AppContext) {
  const runner = sqlRunner(ctx.db);
  return async function authorizeRequest(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | void> {
    // A Bundle's handler authorizes each entry; `request.access` stays null so nothing reads on the whole.
    if (request.routeOptions.config.authorizedPerEntry) return;
    if (request.routeOptions.config.public) {
      request.access = { by: 'public', confinement: null };
      return;
    }
    const identity = request.identity;
    if (debugRequested(request)) {
      const set = await ctx.policies.fresh();
      if (!(await mayDebug(ctx, set, identity, runner))) throw forbidden('Not allowed to debug access policies: no policy allows POST /auth/test-policy');
      // A debugged request is a dry run: it answers with the trace and is not carried out.
      const object = buildRequestObject(describeRequest(request, rolesOf(set, identity)));
      const decision = await decide(set, object, runner, { trace: true });
      return reply.code(200).header('cache-control', 'no-store').send(traceOf(set, object, decision, isRoot(ctx, identity)));
    }
    const interaction = interactionAt(request.routeOptions.config.interaction, (request.params ?? {}) as Record<string, string>);
    request.access = await authorize(ctx, runner, identity, interaction, describeRequest(request, []));
  };
}
