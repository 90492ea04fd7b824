// Brute-force throttling: failed authentications are counted per identity (the id presented, known or not)
// and per address, in fixed windows kept in the database so every server process sees the same counts.
// Only attempts that would run the KDF are counted and checked; a credential already verified is never slowed.
import type { Database } from '../store/database.ts';

export interface ThrottleLimits {
  identityLimit: number;
  addressLimit: number;
  windowSeconds: number;
}

/** The caller must wait `retryAfter` seconds before trying again. */
export class Throttled extends Error {
  constructor(readonly retryAfter: number) {
    super(`throttled for ${retryAfter} s`);
  }
}

export class FailureThrottle {
  constructor(
    private readonly db: Database,
    private readonly limits: ThrottleLimits,
  ) {}

  /** Throws Throttled when the identity or the address has used up its failures in the current window. */
  async check(identity: string, address: string): Promise<void> {
    const rows = await this.db.query<{ key: string; failures: number; remaining: number }>(
      `select key, failures, ceil(extract(epoch from window_start + make_interval(secs => $3) - now()))::int as remaining
       from auth_failure where key in ($1, $2) and window_start > now() - make_interval(secs => $3)`,
      [`id:${identity}`, `ip:${address}`, this.limits.windowSeconds],
    );
    let wait = 0;
    for (const row of rows) {
      const limit = row.key.startsWith('id:') ? this.limits.identityLimit : this.limits.addressLimit;
      if (row.failures >= limit) wait = Math.max(wait, Math.max(1, Number(row.remaining)));
    }
    if (wait > 0) throw new Throttled(wait);
  }

  async recordFailure(identity: string, address: string): Promise<void> {
    for (const key of [`id:${identity}`, `ip:${address}`]) {
      await this.db.query(
        `insert into auth_failure (key, failures, window_start) values ($1, 1, now())
         on conflict (key) do update set
           failures = case when auth_failure.window_start <= now() - make_interval(secs => $2) then 1 else auth_failure.failures + 1 end,
           window_start = case when auth_failure.window_start <= now() - make_interval(secs => $2) then now() else auth_failure.window_start end`,
        [key, this.limits.windowSeconds],
      );
    }
  }

  /** A success clears the identity's count (not the address's: one good login must not unlock a spray). */
  async recordSuccess(identity: string): Promise<void> {
    await this.db.query('delete from auth_failure where key = $1', [`id:${identity}`]);
  }
}
