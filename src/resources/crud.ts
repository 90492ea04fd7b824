// Create, read, update, patch and delete of one resource. Every write reads the current version, computes
// the next one (write rules such as hashing included) outside any lock, and stores it only if the current
// version is still the one it read; a lost race is retried, or answered 412 when the caller sent If-Match.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ResourceView } from '../access/confined-resources.ts';
import type { AppContext } from '../context.ts';
import { applyWriteRules } from '../iam/write-rules.ts';
import { sendResource } from '../http/reply-format.ts';
import { VersionConflict, type Resource, type Version } from '../store/resource-store.ts';
import { validateWrite } from '../validation/validate.ts';
import { conflict, gone, notFound, preconditionFailed } from '../fhir/outcome.ts';
import { applyResourcePatch } from './patch.ts';
import { checkDeletableType, checkId, checkResourceBody, checkWritableType, checkResourceMediaType, checkType, ifMatchVersion } from './validate.ts';

type InstanceParams = { type: string; id: string };
const MAX_ATTEMPTS = 50;

export function versionHeaders(ctx: AppContext, version: Version): Record<string, string> {
  const { resourceType, id } = version.resource;
  return {
    etag: `W/"${version.versionId}"`,
    'last-modified': new Date(version.lastUpdated).toUTCString(),
    location: `${ctx.config.baseUrl}/${resourceType}/${id}/_history/${version.versionId}`,
  };
}

function sendVersion(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, status: number, version: Version) {
  reply.headers(versionHeaders(ctx, version));
  if (/return=minimal/.test(String(request.headers.prefer ?? ''))) return reply.code(status).send();
  return sendResource(request, reply, status, version.resource);
}

/**
 * Stores `next(current)` as the new version of type/id. `current` is null when the resource never
 * existed; a deleted resource is passed as is, so the caller decides whether it may be written again.
 */
async function commit(
  ctx: AppContext,
  resources: ResourceView,
  type: string,
  id: string,
  ifMatch: string | undefined,
  next: (current: Version | null) => Promise<Resource>,
  deleting = false,
): Promise<{ version: Version; created: boolean }> {
  for (let attempt = 1; ; attempt++) {
    const current = await resources.read(type, id);
    if (ifMatch !== undefined && (!current || current.deleted || current.versionId !== ifMatch)) {
      throw preconditionFailed(
        current && !current.deleted
          ? `If-Match names version ${ifMatch} but ${type}/${id} is at version ${current.versionId}`
          : `If-Match names version ${ifMatch} but ${type}/${id} does not exist`,
      );
    }
    const resource = await next(current);
    if (!deleting) await validateWrite(ctx, resource);
    try {
      const version = await resources.write(resource, current?.versionId ?? null, deleting);
      return { version, created: !current || current.deleted };
    } catch (error) {
      if (!(error instanceof VersionConflict)) throw error;
      if (ifMatch !== undefined) throw preconditionFailed(`${type}/${id} was changed by another request; read it again`);
      if (attempt >= MAX_ATTEMPTS) throw conflict(`${type}/${id} is being changed by too many requests at once; try again`);
    }
  }
}

function existing(current: Version | null, type: string, id: string): Version {
  if (!current) throw notFound(`${type}/${id} not found`);
  if (current.deleted) throw gone(`${type}/${id} was deleted`);
  return current;
}

/** `resourcesFor(request)`: the store as the caller may see it; no handler reads past it. */
export function crudHandlers(ctx: AppContext, resourcesFor: (request: FastifyRequest) => ResourceView) {
  return {
    async create(request: FastifyRequest<{ Params: { type: string } }>, reply: FastifyReply) {
      const type = checkWritableType(request.params.type);
      checkResourceMediaType(request.headers['content-type']);
      const resource = await applyWriteRules(checkResourceBody(request.body, type), ctx.db, ctx.config);
      const { version } = await commit(ctx, resourcesFor(request), type, resource.id, undefined, async (current) => {
        if (current && !current.deleted) throw conflict(`${type}/${resource.id} already exists; use PUT to update it`);
        return resource;
      });
      return sendVersion(ctx, request, reply, 201, version);
    },

    async read(request: FastifyRequest<{ Params: InstanceParams }>, reply: FastifyReply) {
      const type = checkType(request.params.type);
      const id = checkId(request.params.id);
      const version = existing(await resourcesFor(request).read(type, id), type, id);
      return sendVersion(ctx, request, reply, 200, version);
    },

    async update(request: FastifyRequest<{ Params: InstanceParams }>, reply: FastifyReply) {
      const type = checkWritableType(request.params.type);
      const id = checkId(request.params.id);
      checkResourceMediaType(request.headers['content-type']);
      const resource = await applyWriteRules(checkResourceBody(request.body, type, id), ctx.db, ctx.config);
      const ifMatch = ifMatchVersion(request.headers['if-match']);
      const { version, created } = await commit(ctx, resourcesFor(request), type, id, ifMatch, async () => resource);
      return sendVersion(ctx, request, reply, created ? 201 : 200, version);
    },

    async patch(request: FastifyRequest<{ Params: InstanceParams }>, reply: FastifyReply) {
      const type = checkWritableType(request.params.type);
      const id = checkId(request.params.id);
      const ifMatch = ifMatchVersion(request.headers['if-match']);
      checkResourceMediaType(request.headers['content-type']);
      const contentType = String(request.headers['content-type'] ?? '');
      const { version } = await commit(ctx, resourcesFor(request), type, id, ifMatch, async (current) => {
        const { meta: _meta, ...body } = existing(current, type, id).resource;
        const patched = applyResourcePatch(body as Resource, request.body, contentType);
        return applyWriteRules(checkResourceBody(patched, type, id), ctx.db, ctx.config);
      });
      return sendVersion(ctx, request, reply, 200, version);
    },

    async remove(request: FastifyRequest<{ Params: InstanceParams }>, reply: FastifyReply) {
      const type = checkDeletableType(request.params.type);
      const id = checkId(request.params.id);
      const ifMatch = ifMatchVersion(request.headers['if-match']);
      const { version } = await commit(ctx, resourcesFor(request), type, id, ifMatch, async (current) => existing(current, type, id).resource, true);
      reply.header('etag', `W/"${version.versionId}"`);
      return sendResource(request, reply, 200, version.resource);
    },
  };
}
