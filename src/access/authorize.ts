// Step 3 of the pipeline: may the caller do this. The root client may do anything (it is the admin);
// everyone else, identified or not, gets what the AccessPolicies allow (decide.ts) and nothing more:
// 401 without an identity, 403 with one.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BASIC_CHALLENGE } from '../authn/basic.ts';
import type { AppContext } from '../context.ts';
import { forbidden, unauthorized } from '../resources/outcome.ts';
import { decide } from './decide.ts';
import { debugRequested, mayDebug, traceOf } from './explain.ts';
import { rolesOf } from './policy-store.ts';
import { isRoot } from './root.ts';
import { buildRequestObject, describeRequest } from './request-object.ts';
import { sqlRunner } from './sql-runner.ts';
import { policyDecisionSeconds } from '../observe/metrics.ts';

export function authorizer(ctx: AppContext) {
  const runner = sqlRunner(ctx.db);
  return async function authorize(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | void> {
    if (request.routeOptions.config.public) return;
    const identity = request.identity;
    const debug = debugRequested(request);
    if (isRoot(ctx, identity) && !debug) return;

    const set = ctx.policies.current;
    const object = buildRequestObject(describeRequest(request, rolesOf(set, identity)));
    if (debug) {
      if (!(await mayDebug(ctx, set, identity, runner))) throw forbidden('Not allowed to debug access policies: no policy allows POST /auth/test-policy');
      // A debugged request is a dry run: it answers with the trace and is not carried out.
      const decision = await decide(set, object, runner, { trace: true });
      const trace = traceOf(set, object, decision, isRoot(ctx, identity));
      return reply.code(200).header('cache-control', 'no-store').send(trace);
    }

    const stopTimer = policyDecisionSeconds.startTimer();
    const decision = await decide(set, object, runner);
    stopTimer({ allowed: String(decision.allowed) });
    if (decision.allowed) return;
    const what = `${request.method} ${object.uri}`;
    if (!identity) throw unauthorized(`Authentication required for ${what}`, BASIC_CHALLENGE);
    const who = identity.user ? `User "${String(identity.user.id)}"` : `Client "${identity.client.id}"`;
    throw forbidden(`${who} is not allowed to ${what}: no access policy allows it`);
  };
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const POLICY_TYPES = new Set(['AccessPolicy', 'Role']);

/**
 * After a successful write of an AccessPolicy or Role, waits for this process's policies to be reloaded
 * before answering, so the writer's next request already meets the new policy. Other processes learn of
 * it through the database's notification.
 */
export function refreshAfterWrite(ctx: AppContext) {
  return async function refresh(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
    const type = (request.params as { type?: string } | undefined)?.type;
    if (WRITES.has(request.method) && type && POLICY_TYPES.has(type) && reply.statusCode < 300) {
      await ctx.policies.refresh();
    }
    return payload;
  };
}
