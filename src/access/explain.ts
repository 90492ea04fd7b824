// Why was a request allowed or denied: POST /auth/test-policy evaluates a described request (and, if given,
// a policy not yet stored) against the policies, and the debug switch (header `x-debug: policy` or query
// `__debug=policy`, as in Aidbox) answers a real request with the same trace instead of carrying it out.
// Both are for callers a policy allows POST /auth/test-policy (and the root client).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity } from '../authn/identity.ts';
import type { AppContext } from '../context.ts';
import type { Resource } from '../store/resource-store.ts';
import { isRoot } from './root.ts';
import { compilePolicy, verifyPolicy } from './compile.ts';
import { decide, type Decision } from './decide.ts';
import { PolicyError, type SqlRunner } from './policy.ts';
import { rolesOf, withPolicy, type PolicySet } from './policy-store.ts';
import { buildRequestObject, type RequestObject } from './request-object.ts';
import { sqlRunner } from './sql-runner.ts';

export function debugRequested(request: FastifyRequest): boolean {
  if (request.headers['x-debug'] === 'policy') return true;
  const query = request.url.indexOf('?');
  return query >= 0 && new URLSearchParams(request.url.slice(query + 1)).getAll('__debug').includes('policy');
}

export async function mayDebug(ctx: AppContext, set: PolicySet, identity: Identity | null, runner: SqlRunner): Promise<boolean> {
  if (isRoot(ctx, identity)) return true;
  const probe = buildRequestObject({ method: 'POST', url: '/auth/test-policy', identity, roles: rolesOf(set, identity) });
  return (await decide(set, probe, runner)).allowed;
}

/** `root`: the caller is the root client, allowed whatever the policies say; they are evaluated all the same. */
export function traceOf(set: PolicySet, request: RequestObject, decision: Decision, root = false) {
  return {
    request,
    decision: decision.allowed || root ? 'allow' : 'deny',
    ...(root && { root: true }),
    ...(decision.policy && { policy: decision.policy }),
    candidates: decision.results,
    ...(set.invalid.length > 0 && { invalid: set.invalid }),
  };
}

class ExplainError extends Error {}

function field(value: unknown, name: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ExplainError(`${name} must be an object`);
  return value as Record<string, unknown>;
}

async function load(ctx: AppContext, type: 'Client' | 'User' | 'Session', ref: unknown): Promise<Resource | undefined> {
  if (ref === undefined || ref === null) return undefined;
  const id = typeof ref === 'string' ? ref : (ref as { id?: unknown }).id;
  if (typeof id !== 'string') throw new ExplainError(`request.${type.toLowerCase()} must be an id or {id}`);
  const found = await ctx.resources.read(type, id);
  if (!found || found.deleted) throw new ExplainError(`request.${type.toLowerCase()}: ${type}/${id} not found`);
  return found.resource;
}

export function explainRoutes(app: FastifyInstance, ctx: AppContext): void {
  const runner = sqlRunner(ctx.db);
  app.post('/auth/test-policy', async (request, reply) => {
    try {
      const body = field(request.body, 'the body');
      const described = field(body.request, 'request');
      const method = described.method ?? described['request-method'] ?? 'get';
      const uri = described.uri ?? described.url;
      if (typeof method !== 'string' || typeof uri !== 'string' || !uri.startsWith('/')) {
        throw new ExplainError('request needs a method and a uri starting with /');
      }
      const client = await load(ctx, 'Client', described.client);
      const user = await load(ctx, 'User', described.user);
      const session = await load(ctx, 'Session', described.session);
      const jwt = described.jwt === undefined ? undefined : field(described.jwt, 'request.jwt');
      const identity = client || user || jwt ? ({ method: 'bearer', client, user, session, jwt } as Identity) : null;

      let set = ctx.policies.current;
      if (body.policy !== undefined) {
        const policy = compilePolicy({ resourceType: 'AccessPolicy', id: 'test-policy', ...field(body.policy, 'policy') } as Resource);
        await verifyPolicy(policy, runner);
        set = withPolicy(set, policy);
      }
      const object = buildRequestObject({
        method,
        url: uri,
        headers: field(described.headers, 'request.headers') as Record<string, string>,
        body: described.body,
        remoteAddr: typeof described['remote-addr'] === 'string' ? described['remote-addr'] : undefined,
        identity,
        roles: rolesOf(set, identity),
      });
      const decision = await decide(set, object, runner, { trace: true });
      return reply.header('cache-control', 'no-store').send(traceOf(set, object, decision));
    } catch (error) {
      if (error instanceof ExplainError || error instanceof PolicyError) {
        return reply.code(400).send({ error: 'invalid_request', error_description: error.message });
      }
      throw error;
    }
  });
}
