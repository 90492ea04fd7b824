// Brute-force throttling: failed authentications are counted per identity (the resolved User or Client, or the
// canonical form of a name that resolves to none) and per address, in fixed windows kept in the database so
// every server process sees the same counts.
//
// An attempt that will run the KDF first reserves a failure, atomically, in the same statement that reads the
// counts (OWASP ASVS 5.0 V6.3.1): of many guesses sent at once only the limit's worth get past, however they
// interleave across processes. A success gives its reservation back; a failure keeps it.
//
// Counting per identity alone would let anyone lock the real owner out with a few wrong guesses. So an address
// from which the identity authenticated recently is a known address (OWASP's "known device"): it is not held
// back by the identity's lock, only by its own count for that identity (the same limit) and by the address's
// limit. An attacker elsewhere still gets the identity's budget and no more; the owner keeps getting in.
// Nothing here tells an unknown id from a wrong secret: an address becomes known only by presenting the right
// secret, and every check runs the same queries for both.
import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Throttled } from '../errors.ts';
import type { Database } from '../store/database.ts';
import type { ChangeFeed } from '../store/change-feed.ts';
import { authFailures, throttledRequests } from '../observe/metrics.ts';

export interface ThrottleLimits {
  identityLimit: number;
  addressLimit: number;
  windowSeconds: number;
  /** How long after its last success an address stays known for an identity. */
  knownAddressSeconds: number;
}

/**
 * `lockIdentity: false` counts only the identity's failures from this address and the address's own: for
 * probes of random values (codes, tokens) against a public name, where a global lock would let anyone shut
 * a public client out.
 */
export interface ThrottleScope {
  lockIdentity?: boolean;
}

type Count = {
  key: string;
  failures: number;
  remaining: number;
  known: boolean;
};

function throttled(retryAfter: number): Throttled {
  throttledRequests.inc();
  return new Throttled(retryAfter);
}

/**
 * An identity as the counters store it: a name an attacker sent may be megabytes of random text, more than a
 * database index entry holds; past 200 characters it is kept as a prefix and a SHA-256 of the whole.
 */
function bounded(identity: string): string {
  if (identity.length <= 200) return identity;
  return `${identity.slice(0, 100)}…${createHash('sha256').update(identity).digest('base64url')}`;
}

/**
 * The address an attempt is counted under. An IPv6 host is usually given a whole /64 (RFC 7421), so counting
 * per IPv6 address would give one attacker 2^64 budgets: IPv6 addresses count by their /64. An IPv4 address
 * mapped into IPv6 (::ffff:a.b.c.d) counts as itself.
 */
export function addressBucket(address: string): string {
  // Every IPv6 address has a colon; most callers are IPv4, and isIPv6's pattern was 2.5% of a Basic read's CPU.
  if (!address.includes(':') || !isIPv6(address)) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  const [head, tail = ''] = address.replace(/%.*$/, '').toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') && tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * The counters an attempt touches: the identity's, the address's, and that of the identity from the address
 * (what limits a known address; an address has no space).
 */
const keysOf = (identity: string, address: string) => [`id:${identity}`, `ip:${address}`, `id-ip:${address} ${identity}`];

const KNOWN = `exists (select 1 from auth_known_address where identity = $5 and address = $6
                       and last_success > now() - make_interval(secs => $7))`;
/** One more failure on each of the three counters ($1-$3), in a window of $4 seconds that starts anew when past. */
const COUNT_FAILURE = `insert into auth_failure (key, failures, window_start) select key, 1, now() from (values ($1), ($2), ($3)) as counted (key)
  on conflict (key) do update set
    failures = case when auth_failure.window_start <= now() - make_interval(secs => $4) then 1 else auth_failure.failures + 1 end,
    window_start = case when auth_failure.window_start <= now() - make_interval(secs => $4) then now() else auth_failure.window_start end`;
const REMAINING = `ceil(extract(epoch from window_start + make_interval(secs => $4) - now()))::int`;

/** The announcements (ChangeFeed.follow) that a counter has reached its limit: `${seconds left} ${key}`. */
const LOCK_ANNOUNCEMENT = 'throttle';
/** Counters known to be at their limit are remembered up to this many; past it, every check asks the database. */
const LOCKS_LIMIT = 10_000;

export class FailureThrottle {
  /**
   * Counters at their limit, as announced by whichever process counted the failure that took them there, with
   * when (performance.now()) their window ends. `check` needs the database only for a counter in here: a
   * counter can only reach its limit through `reserve` or `recordFailure`, which announce it to every process
   * (ChangeFeed.announce waits until each has read it or lost its lease) before answering the attempt.
   */
  private readonly locks = new Map<string, number>();
  /** While the locks already in the database are being read, every check asks the database. */
  private loading: number | null = null;
  /** Until then (performance.now()) every check asks the database: more locks were announced than are remembered. */
  private overflowUntil = 0;
  private loads = 0;

  constructor(
    private readonly db: Database,
    private readonly limits: ThrottleLimits,
    /** Without it, every check asks the database. */
    private readonly feed?: ChangeFeed,
  ) {
    if (!feed) return;
    feed.follow(
      LOCK_ANNOUNCEMENT,
      (payload) => {
        const space = payload.indexOf(' ');
        this.remember(payload.slice(space + 1), Number(payload.slice(0, space)));
      },
      // Listening (re)started: what was announced meanwhile is in the database.
      () => void this.loadLocks(),
    );
    void this.loadLocks();
  }

  /** Reads the counters at their limit now; until it is done (and should it fail) checks ask the database. */
  private async loadLocks(): Promise<void> {
    const load = ++this.loads;
    this.loading = load;
    try {
      const rows = await this.db.query<Count>(
        `select key, failures, ${REMAINING.replace('$4', '$1')} as remaining, false as known from auth_failure
         where window_start > now() - make_interval(secs => $1) and failures >= least($2::int, $3::int)`,
        [this.limits.windowSeconds, this.limits.identityLimit, this.limits.addressLimit],
      );
      if (load !== this.loads) return;
      this.locks.clear();
      for (const row of rows) if (this.atLimit(row)) this.remember(row.key, Math.max(1, Number(row.remaining)));
      this.loading = null;
    } catch {
      // Stays loading: every check asks the database, until listening restarts and this runs again.
    }
  }

  /** Throws Throttled when the identity or the address has used up its failures in the current window. */
  async check(identity: string, address: string, scope: ThrottleScope = {}): Promise<void> {
    if (this.knownUnlocked(identity, address)) return;
    const rows = await this.db.query<Count>(
      `select key, failures, ${REMAINING} as remaining, ${KNOWN} as known
       from auth_failure where key in ($1, $2, $3) and window_start > now() - make_interval(secs => $4)`,
      this.params(identity, address),
    );
    const wait = this.wait(rows, (failures, limit) => failures >= limit, scope);
    if (wait > 0) throw throttled(wait);
  }

  /**
   * Counts one failure now, before the work that decides it, and throws Throttled (counting nothing) when that
   * goes past a limit. Call `succeeded` if the attempt turns out right; a failure needs nothing more.
   */
  async reserve(identity: string, address: string, scope: ThrottleScope = {}): Promise<void> {
    const rows = await this.db.query<Count>(
      `${COUNT_FAILURE} returning key, failures, ${REMAINING} as remaining, ${KNOWN} as known`,
      this.params(identity, address),
    );
    await this.announceLocks(rows);
    const wait = this.wait(rows, (failures, limit) => failures > limit, scope);
    if (wait === 0) return;
    await this.release(keysOf(bounded(identity), addressBucket(address)));
    throw throttled(wait);
  }

  /** Counts a failure that needed no reservation (the work was cheap); `check` first. */
  async recordFailure(identity: string, address: string): Promise<void> {
    authFailures.inc({ credential: 'guess' });
    const rows = await this.db.query<Count>(
      `${COUNT_FAILURE} returning key, failures, ${REMAINING} as remaining, false as known`,
      this.params(identity, address).slice(0, 4),
    );
    await this.announceLocks(rows);
  }

  /**
   * A reserved attempt was right: its reservation is given back, the address becomes known for the identity
   * and their shared count is cleared. Neither the identity's earlier failures are cleared (the owner signing
   * in must not refill an attacker's budget) nor the address's (one good login must not unlock a spray).
   * Addresses no longer known are deleted by the sweeper (store/sweeper.ts); `check` ignores them meanwhile.
   */
  async succeeded(presented: string, from: string): Promise<void> {
    const [identity, address] = [bounded(presented), addressBucket(from)];
    const [identityKey, addressKey, pairKey] = keysOf(identity, address);
    await this.release([identityKey, addressKey]);
    await this.db.query('delete from auth_failure where key = $1', [pairKey]);
    await this.db.query(
      `insert into auth_known_address (identity, address, last_success) values ($1, $2, now())
       on conflict (identity, address) do update set last_success = now()`,
      [identity, address],
    );
  }

  /** True when no counter this attempt reads can be at its limit, as far as this process can be sure. */
  private knownUnlocked(presented: string, from: string): boolean {
    const now = performance.now();
    if (!this.feed?.following() || this.loading !== null || now < this.overflowUntil) return false;
    return keysOf(bounded(presented), addressBucket(from)).every((key) => !((this.locks.get(key) ?? 0) > now));
  }

  /** Tells every process of the counters these rows show at their limit (that it does not know of already). */
  private async announceLocks(rows: Count[]): Promise<void> {
    if (!this.feed) return;
    for (const row of rows) {
      if (!this.atLimit(row)) continue;
      const remaining = Math.max(1, Number(row.remaining));
      if ((this.locks.get(row.key) ?? 0) >= performance.now() + remaining * 1000) continue;
      await this.feed.announce(LOCK_ANNOUNCEMENT, `${remaining} ${row.key}`);
    }
  }

  private atLimit(row: Count): boolean {
    return Number(row.failures) >= (row.key.startsWith('ip:') ? this.limits.addressLimit : this.limits.identityLimit);
  }

  private remember(key: string, remainingSeconds: number) {
    if (this.locks.size >= LOCKS_LIMIT && !this.locks.has(key)) {
      const now = performance.now();
      for (const [held, until] of this.locks) if (until <= now) this.locks.delete(held);
      // Still too many to remember (an attack from everywhere at once): checks ask the database for a while.
      if (this.locks.size >= LOCKS_LIMIT) {
        this.locks.clear();
        this.overflowUntil = now + (this.limits.windowSeconds + 1) * 1000;
        return;
      }
    }
    // A malformed count locks for a whole window: never shorter than it should.
    if (!Number.isFinite(remainingSeconds)) remainingSeconds = this.limits.windowSeconds;
    this.locks.set(key, Math.max(this.locks.get(key) ?? 0, this.windowEnd(remainingSeconds)));
  }

  /** When a window with `seconds` left ends, with a second's margin for rounding and the database's clock. */
  private windowEnd(seconds: number): number {
    return performance.now() + (seconds + 1) * 1000;
  }

  private params(presented: string, from: string): unknown[] {
    const { windowSeconds, knownAddressSeconds } = this.limits;
    const [identity, address] = [bounded(presented), addressBucket(from)];
    return [...keysOf(identity, address), windowSeconds, identity, address, knownAddressSeconds];
  }

  /**
   * Takes one failure back from each counter. Written as an upsert over the keys in keysOf's order, as
   * COUNT_FAILURE is: both lock the rows in one order, so concurrent attempts cannot deadlock.
   */
  private async release(keys: string[]): Promise<void> {
    await this.db.query(
      `insert into auth_failure (key, failures, window_start)
       select key, 0, now() from jsonb_array_elements_text($1::text::jsonb) with ordinality as released (key, position) order by position
       on conflict (key) do update set failures = greatest(auth_failure.failures - 1, 0)`,
      [JSON.stringify(keys)],
    );
  }

  /** The seconds to wait, 0 when no count is over its limit. */
  private wait(rows: Count[], over: (failures: number, limit: number) => boolean, { lockIdentity = true }: ThrottleScope): number {
    // A known address is not held back by the identity's count, only by its own failures for the identity.
    const identityLocks = lockIdentity && !rows.some((row) => row.known);
    let wait = 0;
    for (const row of rows) {
      if (!identityLocks && row.key.startsWith('id:')) continue;
      const limit = row.key.startsWith('ip:') ? this.limits.addressLimit : this.limits.identityLimit;
      if (over(Number(row.failures), limit)) wait = Math.max(wait, Math.max(1, Number(row.remaining)));
    }
    return wait;
  }
}
