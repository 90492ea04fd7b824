// The root client named by WARDEN_ROOT_CLIENT_ID/SECRET (or Aidbox's BOX_ROOT_CLIENT_*), made or updated at start.
import type { RootClientConfig } from '../config.ts';
import { VersionConflict, type ResourceStore } from '../store/resource-store.ts';
import { verifySecret } from './password-hash.ts';
import { applyWriteRules } from './write-rules.ts';

const ROOT_GRANTS = ['basic', 'client_credentials'];

export async function ensureRootClient(resources: ResourceStore, root: RootClientConfig): Promise<'created' | 'updated' | 'unchanged'> {
  const current = await resources.read('Client', root.id);
  const existing = current && !current.deleted ? current.resource : null;
  if (
    existing &&
    typeof existing.secret === 'string' &&
    ROOT_GRANTS.every((grant) => (existing.grant_types as string[] | undefined)?.includes(grant)) &&
    (await verifySecret(root.secret, existing.secret))
  ) {
    return 'unchanged';
  }
  const client = await applyWriteRules({
    ...existing,
    resourceType: 'Client',
    id: root.id,
    secret: root.secret,
    grant_types: [...new Set([...((existing?.grant_types as string[] | undefined) ?? []), ...ROOT_GRANTS])],
  });
  try {
    await resources.write(client, current?.versionId ?? null);
  } catch (error) {
    // Another process starting at the same moment wrote it first; its write is as good as ours.
    if (!(error instanceof VersionConflict)) throw error;
  }
  return existing ? 'updated' : 'created';
}
