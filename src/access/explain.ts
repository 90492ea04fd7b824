// Why was a request allowed or denied: POST /auth/test-policy evaluates a described request (and, if given,
// a policy not yet stored) against the policies, and the debug switch (header `x-debug: policy` or query
// `__debug=policy`, as in Aidbox) answers a real request with the same trace instead of carrying it out.
// Both are for callers a policy allows POST /auth/test-policy by name (and the root client): the trace shows
// how every policy decides, so a catch-all policy does not grant it. Trying a policy not yet stored runs its
// SQL, which reads every resource, so it also takes the right to write AccessPolicies.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity } from '../authn/identity.ts';
import type { AppContext } from '../context.ts';
import type { Resource } from '../store/resource-store.ts';
import { forbidden } from '../fhir/outcome.ts';
import { accessOf } from './access.ts';
import { confinedResources, type ResourceView } from './confined-resources.ts';
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

/** A path no policy can mean: a policy that allows it as well as /auth/test-policy does not name the latter. */
const PROBE_URL = '/auth/warden-probe-endpoint';

/**
 * Whether a policy allows POST /auth/test-policy by naming it (its uri, or link Operation/AuthTestPolicy):
 * one that allows the same call to another endpoint is a catch-all, and does not grant the debugger
 * (OWASP ASVS 5.0 V8.2.2: access to a function is granted explicitly).
 */
export async function mayDebug(ctx: AppContext, set: PolicySet, identity: Identity | null, runner: SqlRunner): Promise<boolean> {
  if (isRoot(ctx, identity)) return true;
  const roles = rolesOf(set, identity);
  const asked = await decide(set, buildRequestObject({ method: 'POST', url: '/auth/test-policy', identity, roles }), runner, { trace: true });
  const allowing = asked.results.filter((result) => result.allowed).map((result) => result.id);
  if (allowing.length === 0) return false;
  const probe = await decide(set, buildRequestObject({ method: 'POST', url: PROBE_URL, identity, roles }), runner, { trace: true });
  return allowing.some((id) => !probe.results.some((result) => result.id === id && result.allowed));
}

/** Whether the policies allow the caller this request; the root client may do anything. */
async function callerMay(ctx: AppContext, caller: Identity | null, runner: SqlRunner, method: string, url: string, body?: unknown) {
  if (isRoot(ctx, caller)) return true;
  const set = await ctx.policies.fresh();
  return (await decide(set, buildRequestObject({ method, url, body, identity: caller, roles: rolesOf(set, caller) }), runner)).allowed;
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

const NOT_NAMED = 'Not allowed to debug access policies: no policy allows POST /auth/test-policy by name (a catch-all policy does not)';
const MAY_NOT_WRITE = 'Not allowed to try a policy that is not stored: that takes the right to write AccessPolicies';

class ExplainError extends Error {}

function field(value: unknown, name: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ExplainError(`${name} must be an object`);
  return value as Record<string, unknown>;
}

/**
 * The Client, User or Session a described request names, when the caller may read it: the trace shows its
 * fields, so naming one is reading it (the same decision as GET /{type}/{id}).
 */
async function load(
  resources: ResourceView,
  type: 'Client' | 'User' | 'Session',
  ref: unknown,
  mayRead: (type: string, id: string) => Promise<boolean>,
): Promise<Resource | undefined> {
  if (ref === undefined || ref === null) return undefined;
  const id = typeof ref === 'string' ? ref : (ref as { id?: unknown }).id;
  if (typeof id !== 'string') throw new ExplainError(`request.${type.toLowerCase()} must be an id or {id}`);
  if (!(await mayRead(type, id))) throw forbidden(`Not allowed to describe a request of ${type}/${id}: no policy allows reading it`);
  // Read through the caller's view: a confined token describes nothing outside its confinement.
  const found = await resources.find(type, id);
  if (!found || found.deleted) throw new ExplainError(`request.${type.toLowerCase()}: ${type}/${id} not found`);
  return found.resource;
}

export function explainRoutes(app: FastifyInstance, ctx: AppContext): void {
  const runner = sqlRunner(ctx.db);
  app.post('/auth/test-policy', async (request, reply) => {
    const caller = request.identity ?? null;
    if (!(await mayDebug(ctx, await ctx.policies.fresh(), caller, runner))) throw forbidden(NOT_NAMED);
    try {
      const body = field(request.body, 'the body');
      const described = field(body.request, 'request');
      const method = described.method ?? described['request-method'] ?? 'get';
      const uri = described.uri ?? described.url;
      if (typeof method !== 'string' || typeof uri !== 'string' || !uri.startsWith('/')) {
        throw new ExplainError('request needs a method and a uri starting with /');
      }
      const mayRead = (type: string, id: string) => callerMay(ctx, caller, runner, 'GET', `/${type}/${encodeURIComponent(id)}`);
      const visible = confinedResources(ctx.resources, accessOf(request).confinement, ctx.config.baseUrl);
      const client = await load(visible, 'Client', described.client, mayRead);
      const user = await load(visible, 'User', described.user, mayRead);
      const session = await load(visible, 'Session', described.session, mayRead);
      const jwt = described.jwt === undefined ? undefined : field(described.jwt, 'request.jwt');
      const identity = client || user || jwt ? ({ method: 'bearer', client, user, session, jwt } as Identity) : null;

      let set = await ctx.policies.fresh();
      if (body.policy !== undefined) {
        // Its SQL would read every resource: trying an unstored policy takes the right to store one.
        if (!(await callerMay(ctx, caller, runner, 'POST', '/AccessPolicy', { resourceType: 'AccessPolicy' }))) throw forbidden(MAY_NOT_WRITE);
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
