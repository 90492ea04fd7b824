// The writes of one resource, apart from HTTP: for the REST handlers (crud.ts), conditional interactions
// (conditional.ts) and Bundle entries (bundle-entries.ts) alike. Every write reads the current version, computes
// the next one (write rules such as hashing included) outside any lock, and stores it only if the current
// version is still the one it read; a lost race is retried, or answered 412 when the caller sent If-Match.
import type { ResourceView } from '../access/confined-resources.ts';
import type { AppContext } from '../context.ts';
import { conflict, gone, notFound, preconditionFailed } from '../fhir/outcome.ts';
import { applyWriteRules } from '../iam/write-rules.ts';
import { VersionConflict, type Resource, type Version } from '../store/resource-store.ts';
import { validateWrite } from '../validation/validate.ts';
import { applyResourcePatch } from './patch.ts';
import { checkResourceBody } from './validate.ts';

const MAX_ATTEMPTS = 50;

/**
 * Stores `next(current)` as the new version of type/id. `current` is null when the resource never
 * existed; a deleted resource is passed as is, so the caller decides whether it may be written again.
 */
export async function commit(
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

export function existing(current: Version | null, type: string, id: string): Version {
  if (!current) throw notFound(`${type}/${id} not found`);
  if (current.deleted) throw gone(`${type}/${id} was deleted`);
  return current;
}

/** What one write did: its status (FHIR R4 §3.1.0) and the version it left, if any. */
export interface WriteResult {
  status: number;
  version?: Version;
}

/** Creates `resource` (already checked, write rules applied); 409 if its id is taken. */
export async function createResource(ctx: AppContext, resources: ResourceView, resource: Resource): Promise<WriteResult> {
  const { resourceType: type, id } = resource;
  const { version } = await commit(ctx, resources, type, id, undefined, async (current) => {
    if (current && !current.deleted) throw conflict(`${type}/${id} already exists; use PUT to update it`);
    return resource;
  });
  return { status: 201, version };
}

/** Stores `resource` as type/id's next version (created when it did not exist): 200 or 201. */
export async function updateResource(ctx: AppContext, resources: ResourceView, resource: Resource, ifMatch: string | undefined): Promise<WriteResult> {
  const { version, created } = await commit(ctx, resources, resource.resourceType, resource.id, ifMatch, async () => resource);
  return { status: created ? 201 : 200, version };
}

/** Applies a JSON, merge or FHIRPath patch to the current version of type/id. */
export async function patchResource(
  ctx: AppContext,
  resources: ResourceView,
  type: string,
  id: string,
  patch: unknown,
  contentType: string,
  ifMatch: string | undefined,
  /** For the write rules that check with the database (an AccessPolicy's SQL); none inside a transaction. */
  db: AppContext['db'] | undefined,
): Promise<WriteResult> {
  const { version } = await commit(ctx, resources, type, id, ifMatch, async (current) => {
    // The patch applies to the resource as stored, meta included (its profiles and tags stay unless the patch
    // changes them); the store sets the new versionId and lastUpdated.
    const patched = applyResourcePatch(existing(current, type, id).resource, patch, contentType);
    return applyWriteRules(checkResourceBody(patched, type, id), db, ctx.config);
  });
  return { status: 200, version };
}

/**
 * Deletes type/id. Deleting what is already deleted changes nothing and succeeds (204): a client retrying a
 * delete gets the same answer (FHIR R4 §3.1.0.7.1); one that never existed is 404.
 */
export async function deleteResource(ctx: AppContext, resources: ResourceView, type: string, id: string, ifMatch: string | undefined): Promise<WriteResult> {
  const current = await resources.read(type, id);
  if (current?.deleted && ifMatch === undefined) return { status: 204 };
  const { version } = await commit(ctx, resources, type, id, ifMatch, async (found) => existing(found, type, id).resource, true);
  return { status: 200, version };
}

