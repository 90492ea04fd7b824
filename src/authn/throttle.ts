// Brute-force throttling: failed authentications are counted per identity (the id presented, known or not)
// and per address, in fixed windows kept in the database so every server process sees the same counts.
// Only attempts that would run the KDF are counted and checked; a credential already verified is never slowed.
//
// Counting per identity alone would let anyone lock the real owner out with a few wrong guesses. So an address
// from which the identity authenticated recently is a known address (OWASP's "known device"): it is not held
// back by the identity's lock, only by its own count for that identity (the same limit) and by the address's
// limit. An attacker elsewhere still gets the identity's budget and no more; the owner keeps getting in.
// Nothing here tells an unknown id from a wrong secret: an address becomes known only by presenting the right
// secret, and every check runs the same queries for both.
import type { Database } from '../store/database.ts';
import { authFailures, throttledRequests } from '../observe/metrics.ts';

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

const identityKey = (identity: string) => `id:${identity}`;
const addressKey = (address: string) => `ip:${address}`;
/** The failures of one identity from one address: what limits a known address. (An address has no space.) */
const pairKey = (identity: string, address: string) => `id-ip:${address} ${identity}`;

export class FailureThrottle {
  constructor(
    private readonly db: Database,
    private readonly limits: ThrottleLimits,
  ) {}

  /** Throws Throttled when the identity or the address has used up its failures in the current window. */
  async check(identity: string, address: string): Promise<void> {
    const rows = await this.db.query<{ key: string; failures: number; remaining: number; known: boolean }>(
      `select key, failures, ceil(extract(epoch from window_start + make_interval(secs => $4) - now()))::int as remaining,
              exists (select 1 from auth_known_address where identity = $5 and address = $6
                      and last_success > now() - make_interval(secs => $7)) as known
       from auth_failure where key in ($1, $2, $3) and window_start > now() - make_interval(secs => $4)`,
      [identityKey(identity), addressKey(address), pairKey(identity, address), this.limits.windowSeconds, identity, address, this.limits.knownAddressSeconds],
    );
    const known = rows.some((row) => row.known);
    let wait = 0;
    for (const row of rows) {
      // A known address is not held back by the identity's count, only by its own failures for the identity.
      if (known && row.key.startsWith('id:')) continue;
      const limit = row.key.startsWith('ip:') ? this.limits.addressLimit : this.limits.identityLimit;
      if (row.failures >= limit) wait = Math.max(wait, Math.max(1, Number(row.remaining)));
    }
    if (wait > 0) {
      throttledRequests.inc();
      throw new Throttled(wait);
    }
  }

  async recordFailure(identity: string, address: string): Promise<void> {
    authFailures.inc();
    await this.db.query(
      `insert into auth_failure (key, failures, window_start) select key, 1, now() from (values ($1), ($2), ($3)) as counted (key)
       on conflict (key) do update set
         failures = case when auth_failure.window_start <= now() - make_interval(secs => $4) then 1 else auth_failure.failures + 1 end,
         window_start = case when auth_failure.window_start <= now() - make_interval(secs => $4) then now() else auth_failure.window_start end`,
      [identityKey(identity), addressKey(address), pairKey(identity, address), this.limits.windowSeconds],
    );
  }

  /**
   * A success makes the address known for the identity and clears their shared count. It clears neither the
   * identity's count (the owner signing in must not refill an attacker's budget) nor the address's (one good
   * login must not unlock a spray). Addresses no longer known are deleted by the sweeper (store/sweeper.ts);
   * `check` ignores them meanwhile.
   */
  async recordSuccess(identity: string, address: string): Promise<void> {
    await this.db.query('delete from auth_failure where key = $1', [pairKey(identity, address)]);
    await this.db.query(
      `insert into auth_known_address (identity, address, last_success) values ($1, $2, now())
       on conflict (identity, address) do update set last_success = now()`,
      [identity, address],
    );
  }
}
