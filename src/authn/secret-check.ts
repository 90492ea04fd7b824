// Checks a presented secret (a Client's secret, a User's password) against its stored scrypt hash, the same
// way for every caller: throttled before the KDF runs, the same work for an unknown id as for a wrong secret,
// and, for client secrets, a cache so the KDF runs once per secret rather than once per request.
import { createHmac, randomBytes } from 'node:crypto';
import { hashSecret, verifySecret } from '../iam/password-hash.ts';
import type { LiveCache } from '../store/live-cache.ts';
import type { Resource } from '../store/resource-store.ts';
import type { FailureThrottle } from './throttle.ts';

const CACHE_LIMIT = 10_000;

export class SecretChecker {
  /**
   * Secrets already verified. Keyed by an HMAC of id and secret under a key that never leaves this process
   * (so the map holds nothing an attacker could test guesses against); the value is the stored hash they
   * matched. A changed secret changes the stored hash, so it misses at once; a deleted or changed Client is
   * seen because every check reads the current Client first, from the LiveCache that drops it when it changes.
   */
  private readonly verified = new Map<string, string>();
  private readonly cacheKey = randomBytes(32);
  /** Made at start, so the first unknown id does not pay for making it (a timing difference). */
  private readonly dummyHash: Promise<string> = hashSecret(randomBytes(16).toString('hex'));

  constructor(
    private readonly live: LiveCache,
    readonly throttle: FailureThrottle,
  ) {}

  /** The current, not deleted, Client whose secret is `secret`; null otherwise. Throws Throttled. */
  async verifyClient(clientId: string, secret: string, address: string): Promise<Resource | null> {
    return this.verifyClientReadings([[clientId, secret]], address);
  }

  /**
   * Like verifyClient, for a credential that may be read more than one way (Basic credentials as sent or
   * form-decoded): every reading is looked up in the cache before any KDF runs, so a client whose credential
   * is cached under its second reading never pays for the first; a failure is counted once.
   */
  async verifyClientReadings(readings: [string, string][], address: string): Promise<Resource | null> {
    const candidates = await Promise.all(
      readings.map(async ([clientId, secret]) => {
        const client = await this.readLive('Client', clientId);
        const hash = typeof client?.secret === 'string' ? client.secret : null;
        const key = createHmac('sha256', this.cacheKey).update(clientId).update('\0').update(secret).digest('base64');
        return { clientId, secret, client, hash, key };
      }),
    );
    for (const { client, hash, key } of candidates) if (hash !== null && this.verified.get(key) === hash) return client;
    const identity = `Client/${candidates[0].clientId}`;
    await this.throttle.check(identity, address);
    for (const { client, hash, secret, key } of candidates) {
      if (await verifySecret(secret, hash ?? (await this.dummyHash))) {
        if (hash === null) continue;
        this.remember(key, hash);
        await this.throttle.recordSuccess(identity, address);
        return client;
      }
    }
    await this.throttle.recordFailure(identity, address);
    return null;
  }

  /** Runs the KDF for a User's password (never cached: logins are rare, and a password is not a client secret). */
  async verifyUserPassword(user: Resource | null, login: string, password: string, address: string): Promise<boolean> {
    const hash = typeof user?.password === 'string' ? user.password : null;
    return this.verifyHashed(`User/${login}`, hash, password, address);
  }

  /**
   * The throttled KDF check. `identity` is what the caller presented, so an unknown id is counted, throttled
   * and timed exactly like a known one.
   */
  private async verifyHashed(identity: string, hash: string | null, secret: string, address: string): Promise<boolean> {
    await this.throttle.check(identity, address);
    const ok = await verifySecret(secret, hash ?? (await this.dummyHash));
    if (ok && hash !== null) {
      await this.throttle.recordSuccess(identity, address);
      return true;
    }
    await this.throttle.recordFailure(identity, address);
    return false;
  }

  readLive(type: string, id: string): Promise<Resource | null> {
    return this.live.get(type, id);
  }

  private remember(key: string, hash: string) {
    this.verified.delete(key);
    this.verified.set(key, hash);
    if (this.verified.size > CACHE_LIMIT) this.verified.delete(this.verified.keys().next().value!);
  }
}
