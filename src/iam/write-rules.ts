// What must happen to a resource of each IAM type before it is stored: validation and hashing.
import type { Resource } from '../store/resource-store.ts';
import { prepareClient } from './client.ts';
import { prepareTokenIntrospector } from './token-introspector.ts';
import { prepareUser } from './user.ts';

type WriteRule = (resource: Resource) => Promise<Resource>;

const rules: Record<string, WriteRule> = {
  Client: prepareClient,
  User: prepareUser,
  TokenIntrospector: prepareTokenIntrospector,
};

export async function applyWriteRules(resource: Resource): Promise<Resource> {
  const rule = rules[resource.resourceType];
  return rule ? rule(resource) : resource;
}
