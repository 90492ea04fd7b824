// What every part of the server is built with: the settings and the store. Passed explicitly, never global.
import type { PolicyStore } from './access/policy-store.ts';
import type { Config } from './config.ts';
import type { Database } from './store/database.ts';
import type { ChangeFeed } from './store/change-feed.ts';
import type { LiveCache } from './store/live-cache.ts';
import type { ResourceStore } from './store/resource-store.ts';

export interface AppContext {
  config: Config;
  db: Database;
  resources: ResourceStore;
  /** The AccessPolicies and Roles, compiled and kept current. */
  policies: PolicyStore;
  /** The current Clients, Users and Sessions, kept in memory and dropped when they change. */
  live: LiveCache;
  /** Keeps every in-memory projection of IAM resources (the two above, the TokenIntrospectors) current in every process. */
  feed: ChangeFeed;
}
