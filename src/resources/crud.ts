// Create, read, update, patch and delete of one resource, as HTTP requests: the writes themselves are in
// writes.ts, the conditional ones (`?search`, If-None-Exist) in conditional.ts.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ResourceView } from '../access/confined-resources.ts';
import type { AppContext } from '../context.ts';
import { applyWriteRules } from '../iam/write-rules.ts';
import { sendResource } from '../http/reply-format.ts';
import type { ResourceStore, Version } from '../store/resource-store.ts';
import type { OperationOutcome } from '../fhir/outcome.ts';
import { conditionalHandlers } from './conditional.ts';
import { createResource, deleteResource, existing, patchResource, updateResource, type WriteResult } from './writes.ts';
import { checkDeletableType, checkId, checkResourceBody, checkWritableType, checkResourceMediaType, checkType, ifMatchVersion } from './validate.ts';

type InstanceParams = { type: string; id: string };

export function versionHeaders(ctx: AppContext, version: Version): Record<string, string> {
  const { resourceType, id } = version.resource;
  return {
    etag: `W/"${version.versionId}"`,
    'last-modified': new Date(version.lastUpdated).toUTCString(),
    location: `${ctx.config.baseUrl}/${resourceType}/${id}/_history/${version.versionId}`,
  };
}

/** What `Prefer: return=` asks for (FHIR R4 §3.1.0.11.5); representation unless said otherwise. */
export function preferredReturn(prefer: string | string[] | undefined): 'minimal' | 'representation' | 'OperationOutcome' {
  if (prefer === undefined) return 'representation';
  const match = /return=(minimal|representation|OperationOutcome)/.exec(Array.isArray(prefer) ? prefer.join(',') : prefer);
  return (match?.[1] as 'minimal' | 'OperationOutcome' | undefined) ?? 'representation';
}

/** The OperationOutcome `Prefer: return=OperationOutcome` answers a successful write with. */
export function successOutcome(status: number, version: Version | undefined): OperationOutcome {
  const what = version ? `${version.resource.resourceType}/${version.resource.id} version ${version.versionId}` : 'Nothing';
  const verb = status === 201 ? 'created' : status === 204 ? 'already deleted' : version?.deleted ? 'deleted' : 'stored';
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: `${what} ${verb}` }] };
}

function sendVersion(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, status: number, version: Version) {
  reply.headers(versionHeaders(ctx, version));
  const preferred = preferredReturn(request.headers.prefer);
  if (preferred === 'minimal') return reply.code(status).send();
  if (preferred === 'OperationOutcome') return sendResource(request, reply, status, successOutcome(status, version));
  return sendResource(request, reply, status, version.resource);
}

function sendWritten(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, result: WriteResult) {
  if (!result.version) return reply.code(result.status).send();
  return sendVersion(ctx, request, reply, result.status, result.version);
}

/**
 * RFC 9110 §13.1.2 and §13.1.3: If-None-Match naming the current version, or If-Modified-Since not before
 * its last change, is answered 304 without the body. If-None-Match wins when both are sent.
 */
function notModified(request: FastifyRequest, version: Version): boolean {
  const ifNoneMatch = request.headers['if-none-match'];
  if (typeof ifNoneMatch === 'string') {
    if (ifNoneMatch.trim() === '*') return true;
    return ifNoneMatch.split(',').some((tag) => /^(?:W\/)?"?([^"]*)"?$/.exec(tag.trim())?.[1] === version.versionId);
  }
  const since = Date.parse(String(request.headers['if-modified-since'] ?? ''));
  // HTTP dates have whole seconds: compare the last change at that precision.
  return !Number.isNaN(since) && Math.floor(Date.parse(version.lastUpdated) / 1000) * 1000 <= since;
}

/** The store as one caller may see it, optionally bound to an open transaction (`store`). */
export type ResourcesFor = (request: FastifyRequest, store?: ResourceStore) => ResourceView;

/** `resourcesFor(request)`: the store as the caller may see it; no handler reads past it. */
export function crudHandlers(ctx: AppContext, resourcesFor: ResourcesFor) {
  const conditional = conditionalHandlers(ctx, resourcesFor);
  return {
    async create(request: FastifyRequest<{ Params: { type: string } }>, reply: FastifyReply) {
      const type = checkWritableType(request.params.type);
      checkResourceMediaType(request.headers['content-type']);
      const resource = await applyWriteRules(checkResourceBody(request.body, type), ctx.db, ctx.config);
      const ifNoneExist = request.headers['if-none-exist'];
      if (typeof ifNoneExist === 'string') return sendWritten(ctx, request, reply, await conditional.create(request, resource, ifNoneExist));
      return sendWritten(ctx, request, reply, await createResource(ctx, resourcesFor(request), resource));
    },

    async read(request: FastifyRequest<{ Params: InstanceParams }>, reply: FastifyReply) {
      const type = checkType(request.params.type);
      const id = checkId(request.params.id);
      const version = existing(await resourcesFor(request).read(type, id), type, id);
      if (notModified(request, version)) return reply.code(304).headers(versionHeaders(ctx, version)).send();
      return sendVersion(ctx, request, reply, 200, version);
    },

    async update(request: FastifyRequest<{ Params: Partial<InstanceParams> }>, reply: FastifyReply) {
      const type = checkWritableType(request.params.type!);
      checkResourceMediaType(request.headers['content-type']);
      if (request.params.id === undefined) {
        const body = await applyWriteRules(checkResourceBody(request.body, type), ctx.db, ctx.config);
        const bodyId = (request.body as { id?: unknown } | null)?.id;
        return sendWritten(ctx, request, reply, await conditional.update(request, body, typeof bodyId === 'string' ? bodyId : undefined));
      }
      const id = checkId(request.params.id);
      const resource = await applyWriteRules(checkResourceBody(request.body, type, id), ctx.db, ctx.config);
      const ifMatch = ifMatchVersion(request.headers['if-match']);
      return sendWritten(ctx, request, reply, await updateResource(ctx, resourcesFor(request), resource, ifMatch));
    },

    async patch(request: FastifyRequest<{ Params: Partial<InstanceParams> }>, reply: FastifyReply) {
      const type = checkWritableType(request.params.type!);
      const ifMatch = ifMatchVersion(request.headers['if-match']);
      checkResourceMediaType(request.headers['content-type']);
      const contentType = String(request.headers['content-type'] ?? '');
      if (request.params.id === undefined) return sendWritten(ctx, request, reply, await conditional.patch(request, contentType));
      const id = checkId(request.params.id);
      return sendWritten(ctx, request, reply, await patchResource(ctx, resourcesFor(request), type, id, request.body, contentType, ifMatch, ctx.db));
    },

    async remove(request: FastifyRequest<{ Params: Partial<InstanceParams> }>, reply: FastifyReply) {
      const type = checkDeletableType(request.params.type!);
      if (request.params.id === undefined) return sendWritten(ctx, request, reply, await conditional.remove(request));
      const id = checkId(request.params.id);
      const ifMatch = ifMatchVersion(request.headers['if-match']);
      const result = await deleteResource(ctx, resourcesFor(request), type, id, ifMatch);
      if (!result.version) return reply.code(204).send();
      reply.header('etag', `W/"${result.version.versionId}"`);
      return sendResource(request, reply, 200, result.version.resource);
    },
  };
}
