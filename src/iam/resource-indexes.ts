// What is derived from each stored version and written in its transaction: the search index, and a User's
// login names. The store is given this (ResourceStore(db, writeResourceIndexes)), so it imports neither.
import { writeSearchIndex } from '../search/index-writer.ts';
import type { Queryable } from '../store/database.ts';
import type { Resource } from '../store/resource-store.ts';
import { writeUserLogins } from './user-logins.ts';

export async function writeResourceIndexes(tx: Queryable, resource: Resource, deleted: boolean): Promise<void> {
  await writeSearchIndex(tx, resource, deleted);
  if (resource.resourceType === 'User') await writeUserLogins(tx, resource, deleted);
}
