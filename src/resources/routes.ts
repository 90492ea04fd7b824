// The resource REST API's routes, declared from the one table of FHIR interactions (src/fhir/interactions.ts):
// each route carries its interaction, which the authorize step reads. Static paths (/metadata, /auth/...,
// /health) win over these patterns.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { accessOf } from '../access/access.ts';
import { confinedResources } from '../access/confined-resources.ts';
import { relatedResources, searchAccess } from '../access/related-access.ts';
import type { AppContext } from '../context.ts';
import { FHIR_ROUTES, OPERATION_ROUTES, type FhirRoute } from '../fhir/interactions.ts';
import { sendResource } from '../http/reply-format.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import { bundleHandler } from './bundle-entries.ts';
import { capabilityStatement } from './capability.ts';
import { compartmentResourcesFor, formSearch } from './compartment-search.ts';
import { crudHandlers, type ResourcesFor } from './crud.ts';
import { deleteCurrentSession } from './current-session.ts';
import { historyHandlers } from './history.ts';
import { searchHandler } from './search.ts';
import { systemSearchHandler } from './system-search.ts';
import { validateHandlers } from '../validation/operation.ts';
import { bulkDataRoutes } from '../bulk/routes.ts';

type Handler = (request: never, reply: FastifyReply) => unknown;

export function resourceRoutes(app: FastifyInstance, ctx: AppContext, version: string): void {
  // Handlers get the store as the caller may see it, with the confinement the authorize step decided; inside a
  // transaction (conditional writes), the store bound to it.
  const resourcesFor: ResourcesFor = (request: FastifyRequest, store: ResourceStore = ctx.resources) =>
    confinedResources(store, accessOf(request).confinement, ctx.config.baseUrl);
  const crud = crudHandlers(ctx, resourcesFor);
  const history = historyHandlers(ctx, resourcesFor);
  const related = relatedResources(ctx);
  const search = searchHandler(ctx, resourcesFor, related);
  const handlerOf = (route: FhirRoute): Handler => {
    if (route.url === '/:type/_search') return formSearch(search);
    if (route.url === '/:compartment/:compartmentId/:type') return searchHandler(ctx, compartmentResourcesFor(ctx, resourcesFor), related);
    // The operations ($validate, $everything, Bulk Data) are routed on their own, below.
    const handlers: Partial<Record<FhirRoute['interaction'], Handler>> = {
      'search-type': search,
      create: crud.create,
      read: crud.read,
      update: crud.update,
      patch: crud.patch,
      delete: crud.remove,
      'history-instance': history.history,
      'history-type': history.historyOfMany,
      'history-system': history.historyOfMany,
      vread: history.vread,
    };
    return handlers[route.interaction]!;
  };
  // Made at the first GET /metadata: it reads every search parameter definition, which a start need not wait for.
  let capability: ReturnType<typeof capabilityStatement> | undefined;
  app.get('/metadata', { config: { public: true } }, (request, reply) =>
    sendResource(request, reply, 200, (capability ??= capabilityStatement(ctx, version))));
  app.delete('/Session', { config: { public: true } }, deleteCurrentSession(ctx));
  // A batch or transaction Bundle: each entry is authorized as its own request (bundle-entries.ts).
  app.post('/', { bodyLimit: ctx.config.bundle.bodyLimit, config: { authorizedPerEntry: true } }, bundleHandler(ctx));
  // A search across types (GET /?_type=...): each type is authorized as its own search (system-search.ts).
  app.get('/', { config: { authorizedPerEntry: true } }, systemSearchHandler(ctx, searchAccess(ctx)));
  for (const route of FHIR_ROUTES) {
    app.route({ method: route.method, url: route.url, config: { interaction: route }, handler: handlerOf(route) as RouteHandlerMethod });
  }
  const validate = validateHandlers(ctx, resourcesFor);
  const [validateType, validateInstance] = OPERATION_ROUTES;
  app.post(validateType.url, { config: { interaction: validateType } }, validate.type);
  app.post(validateInstance.url, { config: { interaction: validateInstance } }, validate.instance);
  bulkDataRoutes(app, ctx, resourcesFor);
}
