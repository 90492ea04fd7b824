// An operator's way in when no one can log in: make the first administrator, or set a User's password.
import { ADMIN_ROLE } from '../console/console-admin.ts';
import { AdminError } from './admin-error.ts';
import { applyWriteRules } from '../iam/write-rules.ts';
import type { ResourceStore } from '../store/resource-store.ts';

/** A User with the Role that the console's access policies name (src/console/console-admin.ts). */
export async function createAdmin(resources: ResourceStore, userId: string, password: string): Promise<void> {
  const current = await resources.read('User', userId);
  if (current && !current.deleted) throw new AdminError(`User ${userId} exists already: use reset-password to set its password`);
  await resources.write(await applyWriteRules({ resourceType: 'User', id: userId, password, active: true }), current?.versionId ?? null);
  const roleId = `${userId}-${ADMIN_ROLE}`;
  const role = await resources.read('Role', roleId);
  await resources.write({ resourceType: 'Role', id: roleId, name: ADMIN_ROLE, user: { resourceType: 'User', id: userId } }, role?.versionId ?? null);
}

export async function resetPassword(resources: ResourceStore, userId: string, password: string): Promise<void> {
  const current = await resources.read('User', userId);
  if (!current || current.deleted) throw new AdminError(`there is no User ${userId}`);
  await resources.write(await applyWriteRules({ ...current.resource, password }), current.versionId);
}
