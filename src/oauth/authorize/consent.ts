// What a user has allowed a client, remembered as a Grant resource (one per user and client), so consent is
// asked once per scope. First-party clients (`Client.first_party`) never ask: they are the service itself.
import { createHash } from 'node:crypto';
import { clientModel } from '../../iam/client-model.ts';
import { VersionConflict, type Resource, type ResourceStore } from '../../store/resource-store.ts';

/** One Grant per user and client; the id is derived so that finding it is one read. */
export function grantId(userId: string, clientId: string): string {
  return createHash('sha256').update(`${userId}\0${clientId}`).digest('hex').slice(0, 40);
}

function grantedScopes(grant: Resource | null): string[] {
  return typeof grant?.scope === 'string' ? grant.scope.split(' ').filter(Boolean) : [];
}

/** Whether the user must be asked: not for first-party clients, nor when every scope was allowed before. */
export async function needsConsent(resources: ResourceStore, client: Resource, userId: string, scopes: string[]): Promise<boolean> {
  if (clientModel(client).firstParty) return false;
  const current = await resources.read('Grant', grantId(userId, client.id));
  if (!current || current.deleted) return true;
  const granted = grantedScopes(current.resource);
  return scopes.some((scope) => !granted.includes(scope));
}

/** Adds the scopes to the user's Grant to the client, making it if needed; safe against concurrent writers. */
export async function rememberGrant(resources: ResourceStore, clientId: string, userId: string, scopes: string[]): Promise<void> {
  const id = grantId(userId, clientId);
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = await resources.read('Grant', id);
    const existing = current && !current.deleted ? current.resource : null;
    const scope = [...new Set([...grantedScopes(existing), ...scopes])].join(' ');
    const grant: Resource = {
      resourceType: 'Grant',
      id,
      user: { resourceType: 'User', id: userId },
      client: { resourceType: 'Client', id: clientId },
      scope,
    };
    try {
      await resources.write(grant, current?.versionId ?? null);
      return;
    } catch (error) {
      if (!(error instanceof VersionConflict)) throw error;
    }
  }
}
