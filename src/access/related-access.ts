// A search may return or look into resources of other types than the one asked for (_include, _revinclude,
// chains, _has). Each such type passes the one authorization step as its own search would (`GET /{type}`):
// the token's SMART scopes and the AccessPolicies decide, and the confinement they give applies. A type the
// caller may not search contributes nothing (OWASP ASVS 5.0 V8.2.2: data-level access checked for every
// resource returned; SMART App Launch 2.x §scopes: a patient/ scope confines every resource to the compartment).
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import { FHIR_ROUTES, interactionAt } from '../fhir/interactions.ts';
import { FhirError } from '../fhir/outcome.ts';
import { accessOf } from './access.ts';
import { authorize } from './authorize.ts';
import { confinedResources, type ResourceView } from './confined-resources.ts';
import { describeRequest } from './request-object.ts';
import { sqlRunner } from './sql-runner.ts';

// `GET /{type}`: the first search-type route is `POST /{type}/_search`, whose uri a policy on `/{type}` does not match.
const SEARCH_ROUTE = FHIR_ROUTES.find((route) => route.method === 'GET' && route.url === '/:type')!;

/** The caller's view of `type` when they may search it, else null; for the request's own type, its own view. */
export type RelatedResources = (request: FastifyRequest, type: string) => Promise<ResourceView | null>;

/** The caller's view of `type` when they may search it, else the denial (401 or 403) the search would get. */
export type SearchAccess = (request: FastifyRequest, type: string) => Promise<ResourceView | FhirError>;

/** The authorization step for a search of `type` by the caller of `request` (`GET /{type}`), as its own request. */
export function searchAccess(ctx: AppContext): SearchAccess {
  const runner = sqlRunner(ctx.db);
  return async (request, type) => {
    const described = { ...describeRequest(request, []), method: 'GET', url: `/${type}`, route: SEARCH_ROUTE.url, routeParams: { type }, body: undefined };
    try {
      const access = await authorize(ctx, runner, request.identity, interactionAt(SEARCH_ROUTE, { type }), described);
      return confinedResources(ctx.resources, access.confinement, ctx.config.baseUrl);
    } catch (error) {
      if (error instanceof FhirError && (error.status === 401 || error.status === 403)) return error;
      throw error;
    }
  };
}

export function relatedResources(ctx: AppContext): RelatedResources {
  const access = searchAccess(ctx);
  return async (request, type) => {
    const own = (request.params as { type?: string } | undefined)?.type;
    if (type === own) return confinedResources(ctx.resources, accessOf(request).confinement, ctx.config.baseUrl);
    const view = await access(request, type);
    return view instanceof FhirError ? null : view;
  };
}
