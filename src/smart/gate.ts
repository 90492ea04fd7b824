// SMART scopes checked on every request made with a token that carries resource scopes (patient/, user/,
// system/), in the authorize step, around AccessPolicies: scopes can only take away, never grant more than
// the policies do — except through a `smart-on-fhir` policy, which allows what the scopes allow.
//
// What it leaves on the request: `request.smart`, the decision, so the handlers that read and search can
// confine what they return (a search adds the patient compartment and the scope's narrowing to its query).
import type { FastifyRequest } from 'fastify';
import type { Identity } from '../authn/identity.ts';
import type { AppContext } from '../context.ts';
import { FhirError, notFound } from '../resources/outcome.ts';
import { applyResourcePatch } from '../resources/patch.ts';
import type { Resource, SearchFilter } from '../store/resource-store.ts';
import { storedVisible, visibilitySearchFilter, visibleUnder } from './compartment.ts';
import { decide, smartRequestOf, type SmartContext, type SmartRequest, type VisibilityFilter } from './enforce.ts';
import { hasSmartResourceScopes, parseScopes, ScopeError, type Scope } from './scopes.ts';

export interface SmartRequestState {
  request: SmartRequest;
  context: SmartContext;
  /** null: the scopes confine nothing; otherwise what the caller may see must match one of these. */
  filters: VisibilityFilter[] | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    smart?: SmartRequestState;
  }
}

/** RFC 6750 §3.1: the token is valid but its scope is not enough. */
export const insufficientScope = (message: string) =>
  new FhirError(403, 'forbidden', message, {
    'www-authenticate': `Bearer error="insufficient_scope", error_description="${message.replace(/["\\]/g, '')}"`,
  });

/** The parsed scopes of the token behind `identity`, or null when it is not a SMART token. */
export function smartScopesOf(identity: Identity | null): Scope[] | null {
  if (!identity?.scopes || identity.scopes.length === 0) return null;
  let scopes: Scope[];
  try {
    scopes = parseScopes(identity.scopes.join(' '));
  } catch (error) {
    if (!(error instanceof ScopeError)) throw error;
    // A token we issued with a scope we cannot read confines to nothing rather than to everything.
    return [];
  }
  return hasSmartResourceScopes(scopes) ? scopes : null;
}

/** The launch context a token was issued in: its Session's (kept across refreshes), or a `patient` claim. */
export function smartContextOf(identity: { jwt?: Record<string, unknown>; session?: Record<string, unknown> }): SmartContext {
  const launch = identity.session?.launch as { patient?: unknown } | undefined;
  if (typeof launch?.patient === 'string' && launch.patient) return { patient: launch.patient };
  const claim = identity.jwt?.patient;
  if (typeof claim === 'string' && claim) return { patient: claim };
  return {};
}

/** The SMART decision for a request, without side effects; null for a request without SMART scopes. */
export function smartDecisionFor(request: FastifyRequest) {
  const scopes = smartScopesOf(request.identity);
  if (scopes === null || !request.identity) return null;
  const smartRequest = smartRequestOf(request.method, request.routeOptions.url, (request.params ?? {}) as Record<string, string>);
  const context = smartContextOf(request.identity);
  return { smartRequest, scopes, context, decision: smartRequest && decide(scopes, smartRequest, context) };
}

function bodyResource(request: FastifyRequest): Resource | null {
  const body = request.body as Resource | undefined;
  return body && typeof body === 'object' && typeof body.resourceType === 'string' ? body : null;
}

/**
 * Before AccessPolicies: may the token's scopes do this at all (no I/O; RFC 6750 insufficient_scope when not).
 * A request SMART scopes do not speak of (not a FHIR interaction) is left to AccessPolicies.
 */
export function smartScopeGate() {
  return async function checkSmartScopes(request: FastifyRequest): Promise<void> {
    const found = smartDecisionFor(request);
    if (!found) return;
    const { smartRequest, context, decision } = found;
    if (!smartRequest || !decision) return;
    if (!decision.allow) throw insufficientScope(decision.reason);
    request.smart = { request: smartRequest, context, filters: decision.filters };
  };
}

/** After AccessPolicies: under a confining scope, the instance asked for must be visible to the token. */
export function smartVisibilityGate(ctx: AppContext) {
  return async function checkSmartVisibility(request: FastifyRequest): Promise<void> {
    const state = request.smart;
    if (!state || state.filters === null) return;
    await checkInstance(ctx, request, state.request, state.filters);
  };
}

/**
 * An instance interaction under a confining scope: the resource as stored must be visible (a resource
 * outside the compartment is answered as if it did not exist), and what is written must stay visible.
 */
async function checkInstance(ctx: AppContext, request: FastifyRequest, smartRequest: SmartRequest, filters: VisibilityFilter[]) {
  const baseUrl = ctx.config.baseUrl;
  if (smartRequest.interaction === 'c' || smartRequest.interaction === 'u') {
    const resource = bodyResource(request);
    if (resource && !visibleUnder({ ...resource, id: smartRequest.id ?? resource.id }, filters, baseUrl)) {
      throw insufficientScope(`The token's scopes do not allow writing this ${smartRequest.type} outside its patient's compartment or scope`);
    }
  }
  if (smartRequest.id === undefined) return;
  const current = await ctx.resources.read(smartRequest.type, smartRequest.id);
  // Nothing stored: nothing to hide; the handler answers 404 (or creates, for an update).
  if (!current) return;
  const hidden = () => notFound(`${smartRequest.type}/${smartRequest.id} not found`);
  // A deletion keeps the last body, whose compartment says whose it was: another patient's deleted resource,
  // its history and its versions stay hidden (SMART App Launch: patient/ scopes confine to the compartment).
  if (current.deleted) {
    if (!visibleUnder(current.resource, filters, baseUrl)) throw hidden();
  } else if (!(await storedVisible(ctx.resources, smartRequest.type, smartRequest.id, filters, baseUrl))) {
    throw hidden();
  }
  const versionId = (request.params as { versionId?: string }).versionId;
  if (versionId !== undefined) {
    // An older version may have belonged to another patient before the resource was moved.
    const version = await ctx.resources.vread(smartRequest.type, smartRequest.id, versionId);
    if (version && !visibleUnder(version.resource, filters, baseUrl)) throw hidden();
  }
  if (current.deleted) return;
  if (request.method === 'PATCH') {
    // A patch may move a resource out of the compartment: what it would make must stay visible too. A patch
    // that does not apply is left for the handler to refuse with its own message.
    let patched: unknown;
    try {
      patched = applyResourcePatch(current.resource, request.body, String(request.headers['content-type'] ?? ''));
    } catch {
      return;
    }
    const resource = patched as Resource;
    if (resource && typeof resource === 'object' && !visibleUnder({ ...resource, id: smartRequest.id }, filters, baseUrl)) {
      throw insufficientScope(`The token's scopes do not allow moving this ${smartRequest.type} outside its patient's compartment or scope`);
    }
  }
}

/** The condition a search adds under the request's SMART confinement; none when the scopes confine nothing. */
export function smartSearchFilters(request: FastifyRequest, type: string, baseUrl: string): SearchFilter[] {
  const filters = request.smart?.filters;
  return filters ? [visibilitySearchFilter(type, filters, baseUrl)] : [];
}
