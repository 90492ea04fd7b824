// Every AccessPolicy and Role, compiled once and kept in memory, indexed by what selects them. Recompiled
// when the database announces a change (migration 0003 makes every write of an AccessPolicy or Role notify
// the channel), so every process sees a change at once; a process that made the change itself also
// refreshes before answering the write (see refreshAfterWrite in authorize.ts).
import { EventEmitter } from 'node:events';
import type { Identity } from '../authn/identity.ts';
import type { Database } from '../store/database.ts';
import type { Resource } from '../store/resource-store.ts';
import { compilePolicy, type CompiledPolicy } from './compile.ts';

export const ACCESS_CHANNEL = 'warden_access';

export interface PolicySet {
  /** Every valid policy, in decision order (by id). */
  all: CompiledPolicy[];
  /** Each policy's place in `all`, so candidates found through different indexes keep one order. */
  rank: Map<CompiledPolicy, number>;
  global: CompiledPolicy[];
  /** Policies by link: "Client/id", "User/id", "Operation/id". */
  byLink: Map<string, CompiledPolicy[]>;
  byRole: Map<string, CompiledPolicy[]>;
  /** Role names by user id, from Role resources. */
  rolesByUser: Map<string, string[]>;
  /** Stored policies that do not compile (written before validation, or by hand); they never allow. */
  invalid: { id: string; message: string }[];
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The user a Role is given to: {id}, {resourceType: User, id} or {reference: "User/id"}. */
function roleUser(role: Resource): string | undefined {
  const user = role.user as { id?: unknown; reference?: unknown } | undefined;
  if (!user || typeof user !== 'object') return undefined;
  if (typeof user.id === 'string') return user.id;
  if (typeof user.reference === 'string' && user.reference.startsWith('User/')) return user.reference.slice(5);
  return undefined;
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Indexes compiled policies by what selects them. */
function index(policies: CompiledPolicy[], rolesByUser: PolicySet['rolesByUser'], invalid: PolicySet['invalid']): PolicySet {
  const all = [...policies].sort(byId);
  const set: PolicySet = { all, rank: new Map(), global: [], byLink: new Map(), byRole: new Map(), rolesByUser, invalid };
  all.forEach((policy, i) => {
    set.rank.set(policy, i);
    if (policy.global) set.global.push(policy);
    for (const link of policy.links) push(set.byLink, link, policy);
    if (policy.roleName !== undefined) push(set.byRole, policy.roleName, policy);
  });
  return set;
}

export function buildPolicySet(policies: Resource[], roles: Resource[]): PolicySet {
  const compiled: CompiledPolicy[] = [];
  const invalid: PolicySet['invalid'] = [];
  for (const resource of policies) {
    try {
      compiled.push(compilePolicy(resource));
    } catch (error) {
      invalid.push({ id: resource.id, message: (error as Error).message });
    }
  }
  const rolesByUser: PolicySet['rolesByUser'] = new Map();
  for (const role of roles) {
    const user = roleUser(role);
    if (user !== undefined && typeof role.name === 'string') push(rolesByUser, user, role.name);
  }
  return index(compiled, rolesByUser, invalid);
}

/** The set with one more policy (replacing a stored one of the same id), for POST /auth/test-policy. */
export function withPolicy(set: PolicySet, policy: CompiledPolicy): PolicySet {
  return index([...set.all.filter((p) => p.id !== policy.id), policy], set.rolesByUser, set.invalid);
}

/** Names of the Roles held by the identity's user. */
export function rolesOf(set: PolicySet, identity: Partial<Identity> | null | undefined): string[] {
  const userId = identity?.user?.id;
  return typeof userId === 'string' ? (set.rolesByUser.get(userId) ?? []) : [];
}

export class PolicyStore extends EventEmitter {
  current: PolicySet = buildPolicySet([], []);
  /** Why the last refresh failed, if it did; the previous policies stay in force meanwhile. */
  lastError: Error | null = null;
  private loading: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  private constructor(private readonly db: Database) {
    super();
  }

  /** Listens first, then loads, so no change made in between is missed. */
  static async open(db: Database): Promise<PolicyStore> {
    const store = new PolicyStore(db);
    await db.listen(ACCESS_CHANNEL, () => {
      store.refresh().catch(() => {});
    });
    await store.refresh();
    return store;
  }

  /**
   * Reloads everything; resolves once a load that started after this call has finished. Calls made while a
   * load is waiting share it, so a burst of changes costs two loads, not one per change.
   */
  refresh(): Promise<void> {
    this.queued ??= (async () => {
      await this.loading?.catch(() => {});
      this.queued = null;
      const load = this.load();
      this.loading = load;
      try {
        await load;
      } finally {
        if (this.loading === load) this.loading = null;
      }
    })();
    return this.queued;
  }

  private async load(): Promise<void> {
    try {
      const rows = await this.db.query<{ resource: string }>(
        `select resource::text as resource from resource where type in ('AccessPolicy', 'Role') and not deleted`,
      );
      const resources = rows.map((row) => JSON.parse(row.resource) as Resource);
      this.current = buildPolicySet(
        resources.filter((r) => r.resourceType === 'AccessPolicy'),
        resources.filter((r) => r.resourceType === 'Role'),
      );
      this.lastError = null;
      this.emit('change', this.current);
    } catch (error) {
      this.lastError = error as Error;
      throw error;
    }
  }
}
