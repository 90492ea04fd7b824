// GET /Patient/{id}/$everything (R4 patient-operation-everything): the Patient and every resource of its
// compartment, through the caller's store view, so a patient/ token sees only its own patient (another is 404)
// and each type only as far as the token's scopes read it. Parameters: start, end (care dates, on the types that
// have a `date` search parameter), _since, _type, _count; pages follow a cursor (the last type and id sent), so a
// page costs one keyset query per type it spans whatever its depth.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ResourceView } from '../access/confined-resources.ts';
import type { AppContext } from '../context.ts';
import { badRequest, gone, notFound } from '../fhir/outcome.ts';
import { sendResource } from '../http/reply-format.ts';
import { checkId } from '../resources/validate.ts';
import { pagingParameter } from '../resources/search.ts';
import { searchFilters } from '../search/query.ts';
import { searchParametersOf } from '../search/parameters.ts';
import type { Resource, SearchFilter } from '../store/resource-store.ts';
import { idAfter, instantParameter, patientRecordTypes, patientsFilter, updatedBetween, withoutAuditTrail } from './filters.ts';

const PARAMETERS = new Set(['start', 'end', '_since', '_type', '_count', '_cursor', '_format']);
const DATE = /^\d{4}(-\d{2}(-\d{2})?)?$/;

type Query = Record<string, string | string[] | undefined>;

interface EverythingQuery {
  types: string[];
  start?: string;
  end?: string;
  since?: string;
  count: number;
  cursor?: { type: string; id: string };
}

function one(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw badRequest(`${name} may appear only once`, 'value', [name]);
  return value;
}

function dateParameter(query: Query, name: 'start' | 'end'): string | undefined {
  const raw = one(query, name);
  if (raw !== undefined && !DATE.test(raw)) throw badRequest(`${name} must be a date (YYYY, YYYY-MM or YYYY-MM-DD), got "${raw.slice(0, 40)}"`, 'value', [name]);
  return raw;
}

export function parseEverything(query: Query): EverythingQuery {
  for (const name of Object.keys(query)) {
    if (!PARAMETERS.has(name)) throw badRequest(`$everything does not support the parameter "${name.slice(0, 64)}"; supported: ${[...PARAMETERS].join(', ')}`, 'not-supported', [name]);
  }
  const record = patientRecordTypes();
  const typeList = one(query, '_type');
  const types = typeList === undefined ? withoutAuditTrail(record) : typeList.split(',').map((type) => type.trim());
  for (const type of types) {
    if (!record.includes(type)) throw badRequest(`_type: "${type.slice(0, 64)}" is not a type of the Patient compartment`, 'value', ['_type']);
  }
  const since = one(query, '_since');
  const cursorRaw = one(query, '_cursor');
  let cursor: EverythingQuery['cursor'];
  if (cursorRaw !== undefined) {
    const [type, id] = cursorRaw.split(':');
    if (!types.includes(type) || !id) throw badRequest('_cursor is not one this server gave in a next link', 'value', ['_cursor']);
    cursor = { type, id: checkId(id) };
  }
  return {
    types: record.filter((type) => types.includes(type)),
    start: dateParameter(query, 'start'),
    end: dateParameter(query, 'end'),
    ...(since !== undefined && { since: instantParameter('_since', since) }),
    count: pagingParameter(query, '_count', 100, 1, 1000),
    ...(cursor && { cursor }),
  };
}

/** The care-date filters of `start` and `end` on a type that has a `date` parameter; none on the others. */
function careDateFilters(type: string, query: EverythingQuery, baseUrl: string): SearchFilter[] {
  if (type === 'Patient' || !searchParametersOf(type).has('date')) return [];
  const values = [...(query.start ? [`ge${query.start}`] : []), ...(query.end ? [`le${query.end}`] : [])];
  return values.length === 0 ? [] : searchFilters(type, [['date', values]], baseUrl, []);
}

export function everythingHandler(ctx: AppContext, resourcesFor: (request: FastifyRequest) => ResourceView) {
  const { baseUrl } = ctx.config;
  return async (request: FastifyRequest<{ Params: { id: string }; Querystring: Query }>, reply: FastifyReply) => {
    const id = checkId(request.params.id);
    const query = parseEverything(request.query);
    const view = resourcesFor(request);
    // The patient first, through the view: out of sight is as absent (404), never a list of its record.
    const patient = await view.read('Patient', id);
    if (!patient) throw notFound(`Patient/${id} not found`);
    if (patient.deleted) throw gone(`Patient/${id} was deleted`);

    const found: Resource[] = [];
    const from = query.cursor ? query.types.indexOf(query.cursor.type) : 0;
    // One resource past the page says whether a next page exists.
    for (let index = from; index < query.types.length && found.length <= query.count; index++) {
      const type = query.types[index];
      const after = index === from ? query.cursor?.id : undefined;
      const filters = [patientsFilter(type, [id], baseUrl), updatedBetween(query.since), idAfter(after), ...careDateFilters(type, query, baseUrl)];
      const { resources } = await view.search(type, { filters, count: query.count + 1 - found.length, offset: 0, sort: 'id', total: false });
      found.push(...resources);
    }
    const page = found.slice(0, query.count);
    const link = (relation: string, cursor?: Resource) => {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(request.query)) if (name !== '_cursor') for (const item of [value ?? ''].flat()) params.append(name, item);
      if (cursor) params.set('_cursor', `${cursor.resourceType}:${cursor.id}`);
      const search = params.toString();
      return { relation, url: `${baseUrl}/Patient/${id}/$everything${search ? `?${search}` : ''}` };
    };
    const self = request.query._cursor === undefined ? link('self') : { relation: 'self', url: `${baseUrl}${request.url}` };
    const bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      link: [self, ...(found.length > query.count ? [link('next', page[page.length - 1])] : [])],
      entry: page.map((resource) => ({ fullUrl: `${baseUrl}/${resource.resourceType}/${resource.id}`, resource, search: { mode: 'match' } })),
    };
    return sendResource(request, reply, 200, bundle);
  };
}
