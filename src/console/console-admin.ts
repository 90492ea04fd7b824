// Who may use the console. The console has no powers of its own: its calls are authorized by AccessPolicy
// like anyone's. At start Warden makes two policies that let Users holding the Role `admin` do anything, but
// only through the console's client; with WARDEN_ADMIN_PASSWORD set it also makes the first such User
// (`warden-admin` unless WARDEN_ADMIN_USER says otherwise: not `admin`, which Aidbox's own examples POST).
import { PROTECTED_TYPES } from '../access/decide.ts';
import type { Config } from '../config.ts';
import { verifySecret } from '../iam/password-hash.ts';
import { applyWriteRules } from '../iam/write-rules.ts';
import { VersionConflict, type Resource, type ResourceStore } from '../store/resource-store.ts';
import { CONSOLE_CLIENT_ID } from './console-client.ts';

export const ADMIN_ROLE = 'admin';

export const consoleAdminPolicies: Resource[] = [
  {
    resourceType: 'AccessPolicy',
    id: 'warden-console-admin',
    description: `Users with the Role "${ADMIN_ROLE}" may do anything through the admin console (Client ${CONSOLE_CLIENT_ID}).`,
    engine: 'matcho',
    roleName: ADMIN_ROLE,
    matcho: { client: { id: CONSOLE_CLIENT_ID } },
  },
  {
    // Writes of IAM types need a policy that names them (src/access/decide.ts): a blanket one never grants them.
    resourceType: 'AccessPolicy',
    id: 'warden-console-admin-iam',
    description: `Users with the Role "${ADMIN_ROLE}" may manage the IAM resources through the admin console.`,
    engine: 'matcho',
    roleName: ADMIN_ROLE,
    matcho: { client: { id: CONSOLE_CLIENT_ID }, params: { 'resource/type': { $enum: [...PROTECTED_TYPES] } } },
  },
  {
    // The policy debugger needs a policy that names it (src/access/explain.ts): a blanket one never grants it.
    resourceType: 'AccessPolicy',
    id: 'warden-console-admin-debug',
    description: `Users with the Role "${ADMIN_ROLE}" may try policies (POST /auth/test-policy) in the admin console.`,
    engine: 'matcho',
    roleName: ADMIN_ROLE,
    matcho: { client: { id: CONSOLE_CLIENT_ID }, uri: '/auth/test-policy' },
  },
];

/** Writes `resource` unless a version of it ever existed: what an operator changed or deleted stays so. */
async function createOnce(resources: ResourceStore, resource: Resource): Promise<boolean> {
  if (await resources.read(resource.resourceType, resource.id)) return false;
  try {
    await resources.write(await applyWriteRules(resource), null);
    return true;
  } catch (error) {
    // Another process starting at the same moment wrote it first.
    if (error instanceof VersionConflict) return false;
    throw error;
  }
}

export async function ensureConsoleAccess(resources: ResourceStore, config: Config): Promise<void> {
  for (const policy of consoleAdminPolicies) await createOnce(resources, policy);
  const password = config.adminPassword;
  if (!password) return;
  const userId = config.adminUser;
  const current = await resources.read('User', userId);
  const user = current && !current.deleted ? current.resource : null;
  // As with the root client, the password in the environment wins over one changed since.
  if (!user || typeof user.password !== 'string' || !(await verifySecret(password, user.password))) {
    const updated = await applyWriteRules({ ...(user ?? {}), resourceType: 'User', id: userId, password, active: user?.active ?? true });
    try {
      await resources.write(updated, current?.versionId ?? null);
    } catch (error) {
      if (!(error instanceof VersionConflict)) throw error;
    }
  }
  await createOnce(resources, adminRole(userId));
}

/** The Role that makes a User an administrator of the console. */
export function adminRole(userId: string): Resource {
  return { resourceType: 'Role', id: `${userId}-admin`, name: ADMIN_ROLE, user: { id: userId, resourceType: 'User' } };
}
