// The IAM configuration as one FHIR Bundle: every Client, User, AccessPolicy, Role and TokenIntrospector, to
// carry a configuration from one Warden to another or keep it under version control. Secrets and passwords
// travel as the hashes they are stored as (src/iam/password-hash.ts), which the write rules keep as they are.
import { AdminError } from './admin-error.ts';
import { applyWriteRules } from '../iam/write-rules.ts';
import type { Database } from '../store/database.ts';
import type { Resource, ResourceStore } from '../store/resource-store.ts';

export const IAM_TYPES = ['Client', 'User', 'AccessPolicy', 'Role', 'TokenIntrospector'];
const PAGE = 500;

export interface IamBundle {
  resourceType: 'Bundle';
  type: 'collection';
  entry: { resource: Resource }[];
}

export async function exportIam(resources: ResourceStore): Promise<IamBundle> {
  const entry: { resource: Resource }[] = [];
  for (const type of IAM_TYPES) {
    for (let offset = 0; ; offset += PAGE) {
      const page = await resources.search(type, { count: PAGE, offset, sort: 'id', total: false });
      for (const resource of page.resources) {
        const { meta: _meta, ...content } = resource;
        entry.push({ resource: content as Resource });
      }
      if (page.resources.length < PAGE) break;
    }
  }
  return { resourceType: 'Bundle', type: 'collection', entry };
}

/**
 * Creates or replaces each resource of `bundle`; resources the bundle does not name are left alone. Every
 * entry is checked by the write rules before the first is written, so a bundle with a bad entry writes nothing.
 */
export async function importIam(resources: ResourceStore, db: Database, bundle: unknown): Promise<{ created: number; updated: number }> {
  const entries = (bundle as { resourceType?: unknown; entry?: unknown })?.entry;
  if ((bundle as { resourceType?: unknown })?.resourceType !== 'Bundle' || !Array.isArray(entries)) {
    throw new AdminError('expected a Bundle with an entry array');
  }
  const prepared: Resource[] = [];
  for (const [index, entry] of entries.entries()) {
    const resource = (entry as { resource?: Resource })?.resource;
    if (!resource || !IAM_TYPES.includes(resource.resourceType) || typeof resource.id !== 'string' || !resource.id) {
      throw new AdminError(`entry ${index}: expected a resource of type ${IAM_TYPES.join(', ')} with an id`);
    }
    prepared.push(await applyWriteRules(resource, db));
  }
  let created = 0;
  let updated = 0;
  for (const resource of prepared) {
    const current = await resources.read(resource.resourceType, resource.id);
    await resources.write(resource, current?.versionId ?? null);
    if (current) updated++;
    else created++;
  }
  return { created, updated };
}
