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
import type { Database } from '../store/database.ts';

export interface ThrottleLimits {
  identityLimit: number;
  addressLimit: number;
  windowSeconds: number;
  /** How long after its last success an address stays known for an identity. */
  knownAddressSeconds: number;
}

/** The caller must wait `retryAfter` seconds before trying again. */
export class Throttled extends Error {
  constructor(readonly retryAfter: number) {
    super(`throttled for ${retryAfter} s`);
  }
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

const identityKey = (identity: string) => `id:${identity}`;
const addressKey = (address: string) => `ip:${address}`;
/** The failures of one identity from one address: what limits a known address. (An address has no space.) */
const pairKey = (identity: string, address: string) => `id-ip:${address} ${identity}`;

const KNOWN = `exists (select 1 from auth_known_address where identity = $5 and address = $6
                       and last_success > now() - make_interval(secs => $7))`;
const REMAINING = `ceil(extract(epoch from window_start + make_interval(secs => $4) - now()))::int`;

export class FailureThrottle {
  constructor(
    private readonly db: Database,
    private readonly limits: ThrottleLimits,
  ) {}

  /** Throws Throttled when the identity or the address has used up its failures in the current window. */
  async check(identity: string, address: string, scope: ThrottleScope = {}): Promise<void> {
    const rows = await this.db.query<Count>(
      `select key, failures, ${REMAINING} as remaining, ${KNOWN} as known
       from auth_failure where key in ($1, $2, $3) and window_start > now() - make_interval(secs => $4)`,
      this.params(identity, address),
    );
    const wait = this.wait(rows, (failures, limit) => failures >= limit, scope);
    if (wait > 0) throw new Throttled(wait);
  }

  /**
   * Counts one failure now, before the work that decides it, and throws Throttled (counting nothing) when that
   * goes past a limit. Call `succeeded` if the attempt turns out right; a failure needs nothing more.
   */
  async reserve(identity: string, address: string, scope: ThrottleScope = {}): Promise<void> {
    const rows = await this.db.query<Count>(
      `insert into auth_failure (key, failures, window_start) select key, 1, now() from (values ($1), ($2), ($3)) as counted (key)
       on conflict (key) do update set
         failures = case when auth_failure.window_start <= now() - make_interval(secs => $4) then 1 else auth_failure.failures + 1 end,
         window_start = case when auth_failure.window_start <= now() - make_interval(secs => $4) then now() else auth_failure.window_start end
       returning key, failures, ${REMAINING} as remaining, ${KNOWN} as known`,
      this.params(identity, address),
    );
    const wait = this.wait(rows, (failures, limit) => failures > limit, scope);
    if (wait === 0) return;
    await this.release([identityKey(identity), addressKey(address), pairKey(identity, address)]);
    throw new Throttled(wait);
  }

  /** Counts a failure that needed no reservation (the work was cheap); `check` first. */
  async recordFailure(identity: string, address: string): Promise<void> {
    await this.db.query(
      `insert into auth_failure (key, failures, window_start) select key, 1, now() from (values ($1), ($2), ($3)) as counted (key)
       on conflict (key) do update set
         failures = case when auth_failure.window_start <= now() - make_interval(secs => $4) then 1 else auth_failure.failures + 1 end,
         window_start = case when auth_failure.window_start <= now() - make_interval(secs => $4) then now() else auth_failure.window_start end`,
      this.params(identity, address).slice(0, 4),
    );
  }

  /**
   * A reserved attempt was right: its reservation is given back, the address becomes known for the identity
   * and their shared count is cleared. Neither the identity's earlier failures are cleared (the owner signing
   * in must not refill an attacker's budget) nor the address's (one good login must not unlock a spray).
   * Addresses no longer known are deleted by the sweeper (store/sweeper.ts); `check` ignores them meanwhile.
   */
  async succeeded(identity: string, address: string): Promise<void> {
    await this.release([identityKey(identity), addressKey(address)]);
    await this.db.query('delete from auth_failure where key = $1', [pairKey(identity, address)]);
    await this.db.query(
      `insert into auth_known_address (identity, address, last_success) values ($1, $2, now())
       on conflict (identity, address) do update set last_success = now()`,
      [identity, address],
    );
  }

  private params(identity: string, address: string): unknown[] {
    const { windowSeconds, knownAddressSeconds } = this.limits;
    return [identityKey(identity), addressKey(address), pairKey(identity, address), windowSeconds, identity, address, knownAddressSeconds];
  }

  private async release(keys: string[]): Promise<void> {
    await this.db.query(
      'update auth_failure set failures = greatest(failures - 1, 0) where key in (select jsonb_array_elements_text($1::text::jsonb))',
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
