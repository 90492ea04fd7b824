// The other ways into the type search (src/resources/search.ts), which they call unchanged:
//   GET /Patient/{id}/{type}   a search within the Patient's compartment (FHIR R4 §3.1.0.9.3)
//   POST /{type}/_search       the search's parameters in a form body (FHIR R4 §3.1.0.9)
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ResourceView } from '../access/confined-resources.ts';
import type { AppContext } from '../context.ts';
import { badRequest, notFound, unsupportedMediaType } from '../fhir/outcome.ts';
import { patientCompartmentFilter } from '../search/compartment.ts';
import { checkId, checkType } from './validate.ts';

type SearchHandler = (request: FastifyRequest<{ Params: { type: string }; Querystring: Record<string, string | string[] | undefined> }>, reply: FastifyReply) => unknown;
type ResourcesFor = (request: FastifyRequest) => ResourceView;
type CompartmentParams = { compartment: string; compartmentId: string; type: string };

/** The search handler made over `resourcesFor`: `GET /Patient/{id}/{type}` searches within that compartment. */
export function compartmentResourcesFor(ctx: AppContext, resourcesFor: ResourcesFor): ResourcesFor {
  return (request) => {
    const { compartment, compartmentId, type } = request.params as CompartmentParams;
    if (compartment !== 'Patient') throw notFound(`Compartment search is supported in the Patient compartment, not "${compartment.slice(0, 64)}"`);
    const filter = patientCompartmentFilter(checkType(type), checkId(compartmentId), ctx.config.baseUrl);
    // The caller's own confinement still applies (the view adds it): the compartment only narrows it.
    const view = resourcesFor(request);
    return { ...view, search: (searched, query) => view.search(searched, { ...query, filters: [...(query.filters ?? []), filter] }) };
  };
}

/** POST /{type}/_search: the form's parameters joined to the query string's, then the type search. */
export function formSearch(search: SearchHandler): SearchHandler {
  return (request, reply) => {
    const contentType = String(request.headers['content-type'] ?? '');
    if (!/^application\/x-www-form-urlencoded/i.test(contentType.trim()) && request.body !== undefined) {
      throw unsupportedMediaType('POST /{type}/_search takes its parameters as a form (application/x-www-form-urlencoded)');
    }
    const form = (request.body ?? {}) as Record<string, unknown>;
    const query: Record<string, string | string[] | undefined> = { ...request.query };
    for (const [name, value] of Object.entries(form)) {
      const values = [value].flat();
      if (!values.every((item) => typeof item === 'string')) throw badRequest(`Search parameter ${name.slice(0, 64)} must be text`, 'value', [name]);
      const seen = Object.hasOwn(query, name) ? query[name] : undefined;
      const merged = seen === undefined ? (values.length === 1 ? values[0] : values) : [...[seen].flat(), ...values];
      // An own property whatever the name (`__proto__` included), as the form parser does.
      Object.defineProperty(query, name, { value: merged, enumerable: true, writable: true, configurable: true });
    }
    request.query = query;
    return search(request, reply);
  };
}
