// GET /{type}/{id}/_history and vread, GET /{type}/{id}/_history/{versionId}.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ResourceView } from '../access/confined-resources.ts';
import type { AppContext } from '../context.ts';
import { sendResource } from '../http/reply-format.ts';
import { historyBundle } from './bundle.ts';
import { versionHeaders } from './crud.ts';
import { gone, notFound } from '../fhir/outcome.ts';
import { DEFAULT_COUNT, MAX_COUNT, pagingParameter } from './search.ts';
import { checkId, checkType } from './validate.ts';

type Query = Record<string, string | string[] | undefined>;

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
