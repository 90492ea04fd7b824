// Every AccessPolicy and Role, compiled once and kept in memory, indexed by what selects them. A projection of
// the change feed (src/store/change-feed.ts): a change, whichever process or SQL statement made it, marks the set
// stale as soon as this process reads of it, and the next decision waits for the reload. A write of a policy is
// answered only once every process has read of it, so a revoked policy is revoked everywhere when the write returns.
import { EventEmitter } from 'node:events';
import type { Identity } from '../authn/identity.ts';
import type { ChangeFeed, Projection } from '../store/change-feed.ts';
import type { Database } from '../store/database.ts';
import type { Resource } from '../store/resource-store.ts';
import { compilePolicy, type CompiledPolicy } from './compile.ts';

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

export class PolicyStore extends EventEmitter implements Projection {
  readonly types: ReadonlySet<string> = new Set(['AccessPolicy', 'Role']);
  readonly followsCreation = true;
  /** The set last loaded; decisions take `fresh()`, which waits for a reload when this one is stale. */
  current: PolicySet = buildPolicySet([], []);
  /** Why the last refresh failed, if it did. */
  lastError: Error | null = null;
  private loading: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  /** Changes announced so far, and how many of them the current set includes: stale while they differ. */
  private announced = 1;
  private included = 0;
  /** The stored text of the policies and roles the current set was built from. */
  private builtFrom: string | null = null;

  constructor(
    private readonly db: Database,
    private readonly feed: ChangeFeed,
  ) {
    super();
    feed.register(this);
  }

  /** The policies in force: reloaded first if a change was announced since, or if the feed cannot vouch for this process. */
  async fresh(): Promise<PolicySet> {
    if (this.included !== this.announced || !this.feed.following()) await this.refresh();
    return this.current;
  }

  changed(): void {
    this.announced++;
    this.refresh().catch(() => {});
  }

  reset(): void {
    this.changed();
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
    const announced = this.announced;
    try {
      const rows = await this.db.query<{ resource: string }>(
        `select resource::text as resource from resource where type in ('AccessPolicy', 'Role') and not deleted order by type, id`,
      );
      // A reload finds the same policies most of the time (one forced by a lost lease, under load): compiling
      // them again would only add to the load, so the set is rebuilt when their stored text changed.
      const text = rows.map((row) => row.resource).join('\n');
      if (text !== this.builtFrom) {
        const resources = rows.map((row) => JSON.parse(row.resource) as Resource);
        this.current = buildPolicySet(
          resources.filter((r) => r.resourceType === 'AccessPolicy'),
          resources.filter((r) => r.resourceType === 'Role'),
        );
        this.builtFrom = text;
      }
      this.included = announced;
      this.lastError = null;
      this.emit('change', this.current);
    } catch (error) {
      this.lastError = error as Error;
      throw error;
    }
  }
}
