// GET /{type}/{id}/_history and vread, GET /{type}/{id}/_history/{versionId}.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ResourceView } from '../access/confined-resources.ts';
import type { AppContext } from '../context.ts';
import { sendResource } from '../http/reply-format.ts';
import { historyBundle } from './bundle.ts';
import { versionHeaders } from './crud.ts';
import { badRequest, gone, notFound } from '../fhir/outcome.ts';
import { DEFAULT_COUNT, MAX_COUNT, pagingParameter } from './search.ts';
import { checkId, checkType } from './validate.ts';

type Query = Record<string, string | string[] | undefined>;

const HISTORY_PARAMETERS = new Set(['_count', '_page', '_since', '_at', '_format']);

/** An instant a history parameter names (FHIR instant or dateTime), as ISO 8601; 400 for anything else. */
function instantParameter(query: Query, name: '_since' | '_at'): string | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  if (Array.isArray(raw)) throw badRequest(`${name} may appear only once`, 'value', [name]);
  const valid = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/.test(raw);
  const time = Date.parse(raw.length === 4 ? `${raw}-01-01` : raw);
  if (!valid || Number.isNaN(time)) throw badRequest(`${name} must be a FHIR instant such as 2024-01-31T12:00:00Z, got "${raw.slice(0, 40)}"`, 'value', [name]);
  return new Date(time).toISOString();
}

export function historyHandlers(ctx: AppContext, resourcesFor: (request: FastifyRequest) => ResourceView) {
  return {
    async history(request: FastifyRequest<{ Params: { type: string; id: string }; Querystring: Query }>, reply: FastifyReply) {
      const type = checkType(request.params.type);
      const id = checkId(request.params.id);
      const count = pagingParameter(request.query, '_count', DEFAULT_COUNT, 1, MAX_COUNT);
      const page = pagingParameter(request.query, '_page', 1, 1, 1_000_000);
      const { versions, total } = await resourcesFor(request).history(type, id, count, (page - 1) * count);
      if (total === 0) throw notFound(`${type}/${id} not found`);
      const bundle = historyBundle(ctx.config.baseUrl, versions, {
        baseUrl: `${ctx.config.baseUrl}/${type}/${id}/_history`,
        params: new URLSearchParams(),
        page,
        count,
        total,
        hasNext: page * count < total,
      });
      return sendResource(request, reply, 200, bundle);
    },

    /** GET /{type}/_history and GET /_history: every resource's versions, newest first (FHIR R4 §3.1.0.10.1). */
    async historyOfMany(request: FastifyRequest<{ Params: { type?: string }; Querystring: Query }>, reply: FastifyReply) {
      const type = request.params.type === undefined ? null : checkType(request.params.type);
      const unknown = Object.keys(request.query).find((name) => !HISTORY_PARAMETERS.has(name));
      if (unknown !== undefined) {
        throw badRequest(`Unsupported history parameter "${unknown.slice(0, 64)}"; supported: ${[...HISTORY_PARAMETERS].join(', ')}`, 'not-supported', [unknown]);
      }
      const count = pagingParameter(request.query, '_count', DEFAULT_COUNT, 1, MAX_COUNT);
      const page = pagingParameter(request.query, '_page', 1, 1, 1_000_000);
      const since = instantParameter(request.query, '_since');
      const at = instantParameter(request.query, '_at');
      const { versions, total } = await resourcesFor(request).historyOf(type, {
        ...(since !== undefined && { since }),
        ...(at !== undefined && { at }),
        count,
        offset: (page - 1) * count,
      });
      const params = new URLSearchParams();
      for (const name of ['_since', '_at'] as const) if (typeof request.query[name] === 'string') params.set(name, request.query[name]);
      const bundle = historyBundle(ctx.config.baseUrl, versions, {
        baseUrl: type === null ? `${ctx.config.baseUrl}/_history` : `${ctx.config.baseUrl}/${type}/_history`,
        params,
        page,
        count,
        total,
        hasNext: page * count < total,
      });
      return sendResource(request, reply, 200, bundle);
    },

    async vread(request: FastifyRequest<{ Params: { type: string; id: string; versionId: string } }>, reply: FastifyReply) {
      const type = checkType(request.params.type);
      const id = checkId(request.params.id);
      const { versionId } = request.params;
      const version = await resourcesFor(request).vread(type, id, versionId);
      if (!version) throw notFound(`${type}/${id} has no version "${versionId.slice(0, 40)}"`);
      if (version.deleted) throw gone(`Version ${versionId} of ${type}/${id} is a deletion`);
      reply.headers(versionHeaders(ctx, version));
      return sendResource(request, reply, 200, version.resource);
    },
  };
}
