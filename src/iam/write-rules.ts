// What must happen to a resource of each IAM type before it is stored: validation and hashing.
import { prepareAccessPolicy } from '../access/write-rule.ts';
import type { WriteSettings } from '../http/outbound-url.ts';
import type { Database } from '../store/database.ts';
import type { Resource } from '../store/resource-store.ts';
import { prepareAuthConfig } from './auth-config.ts';
import { prepareClient } from './client.ts';
import { prepareIdentityProvider } from './identity-provider.ts';
import { prepareTokenIntrospector } from './token-introspector.ts';
import { prepareUser } from './user.ts';

/** `db`, when given, lets a rule check what only the database can (an AccessPolicy's SQL). */
type WriteRule = (resource: Resource, db?: Database, settings?: WriteSettings) => Promise<Resource>;

/** The settings write rules follow; absent, the strictest. */
export type { WriteSettings };

const rules: Record<string, WriteRule> = {
  Client: prepareClient,
  User: prepareUser,
  AccessPolicy: prepareAccessPolicy,
  TokenIntrospector: prepareTokenIntrospector,
  IdentityProvider: prepareIdentityProvider,
  AuthConfig: prepareAuthConfig,
};

export async function applyWriteRules(resource: Resource, db?: Database, settings?: WriteSettings): Promise<Resource> {
  const rule = rules[resource.resourceType];
  return rule ? rule(resource, db, settings) : resource;
}
