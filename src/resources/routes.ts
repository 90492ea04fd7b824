// The resource REST API's routes, declared from the one table of FHIR interactions (src/fhir/interactions.ts):
// each route carries its interaction, which the authorize step reads. Static paths (/metadata, /auth/...,
// /health) win over these patterns.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { accessOf } from '../access/access.ts';
import { confinedResources } from '../access/confined-resources.ts';
import type { AppContext } from '../context.ts';
import { FHIR_ROUTES, OPERATION_ROUTES, type FhirInteraction } from '../fhir/interactions.ts';
import { sendResource } from '../http/reply-format.ts';
import { capabilityStatement } from './capability.ts';
import { crudHandlers } from './crud.ts';
import { deleteCurrentSession } from './current-session.ts';
import { historyHandlers } from './history.ts';
import { searchHandler } from './search.ts';
import { validateHandlers } from '../validation/operation.ts';
import { bulkDataRoutes } from '../bulk/routes.ts';

export function resourceRoutes(app: FastifyInstance, ctx: AppContext, version: string): void {
  // Handlers get the store as the caller may see it, with the confinement the authorize step decided.
  const resourcesFor = (request: FastifyRequest) => confinedResources(ctx.resources, accessOf(request).confinement, ctx.config.baseUrl);
  const crud = crudHandlers(ctx, resourcesFor);
  const history = historyHandlers(ctx, resourcesFor);
  const handlers: Record<FhirInteraction, (request: never, reply: FastifyReply) => unknown> = {
    'search-type': searchHandler(ctx, resourcesFor),
    create: crud.create,
    read: crud.read,
    update: crud.update,
    patch: crud.patch,
    delete: crud.remove,
    'history-instance': history.history,
    vread: history.vread,
  };
  const capability = capabilityStatement(ctx, version);

  app.get('/metadata', { config: { public: true } }, (request, reply) => sendResource(request, reply, 200, capability));
  app.delete('/Session', { config: { public: true } }, deleteCurrentSession(ctx));
  for (const route of FHIR_ROUTES) {
    app.route({ method: route.method, url: route.url, config: { interaction: route }, handler: handlers[route.interaction] as RouteHandlerMethod });
  }
  const validate = validateHandlers(ctx, resourcesFor);
  const [validateType, validateInstance] = OPERATION_ROUTES;
  app.post(validateType.url, { config: { interaction: validateType } }, validate.type);
  app.post(validateInstance.url, { config: { interaction: validateInstance } }, validate.instance);
  bulkDataRoutes(app, ctx, resourcesFor);
}
