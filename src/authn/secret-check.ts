// Checks a presented secret (a Client's secret, a User's password) against its stored scrypt hash, the same
// way for every caller: an attempt reserved with the throttle before the KDF runs, the same work and answer
// for an unknown id, a disabled one and a wrong secret, and, for client secrets, a cache so the KDF runs once
// per secret rather than once per request.
import { createHmac, randomBytes } from 'node:crypto';
import { clientModel } from '../iam/client-model.ts';
import { canonicalLogin } from '../iam/login-name.ts';
import { userModel } from '../iam/user-model.ts';
import { hashSecret, verifySecret } from '../iam/password-hash.ts';
import { authFailures } from '../observe/metrics.ts';
import type { LiveCache } from '../store/live-cache.ts';
import type { Resource } from '../store/resource-store.ts';
import { addressBucket, type FailureThrottle } from './throttle.ts';

const CACHE_LIMIT = 10_000;

export class SecretChecker {
  /**
   * Secrets already verified. Keyed by an HMAC of id and secret under a key that never leaves this process
   * (so the map holds nothing an attacker could test guesses against); the value is the stored hash they
   * matched. A changed secret changes the stored hash, so it misses at once; a deleted or changed Client is
   * seen because every check reads the current Client first, from the LiveCache that drops it when it changes.
   */
  private readonly verified = new Map<string, string>();
  /** Checks under way, by credential readings (with the hashes they are checked against) and address bucket. */
  private readonly inFlight = new Map<string, Promise<Resource | null>>();
  private readonly cacheKey = randomBytes(32);
  /** Made at start, so the first unknown id does not pay for making it (a timing difference). */
  private readonly dummyHash: Promise<string> = hashSecret(randomBytes(16).toString('hex'));

  constructor(
    private readonly live: LiveCache,
    readonly throttle: FailureThrottle,
  ) {}

  /** The current, not deleted, active Client whose secret is `secret`; null otherwise. Throws Throttled. */
  async verifyClient(clientId: string, secret: string, address: string): Promise<Resource | null> {
    return this.verifyClientReadings([[clientId, secret]], address);
  }

  /**
   * Like verifyClient, for a credential that may be read more than one way (Basic credentials as sent or
   * form-decoded). Failures count against the Client a reading names (or, naming none, the last reading: the
   * decoded one), so every spelling of one id shares one budget. The throttle is asked before the cache: a
   * throttled caller gets the same 429 for the right secret as for a wrong one, or the cache would tell them
   * apart (OWASP ASVS 5.0 V6.3.1).
   */
  async verifyClientReadings(readings: [string, string][], address: string): Promise<Resource | null> {
    const candidates = await Promise.all(
      readings.map(async ([clientId, secret]) => {
        const client = await this.readLive('Client', clientId);
        // A disabled Client is checked like an unknown one: same work, same answer, counted as a failure.
        const model = client ? clientModel(client) : null;
        const hash = model?.active && model.secretHash !== undefined ? model.secretHash : null;
        const key = createHmac('sha256', this.cacheKey).update(clientId).update('\0').update(secret).digest('base64');
        return { clientId, secret, client, hash, key };
      }),
    );
    const named = candidates.find((candidate) => candidate.client) ?? candidates[candidates.length - 1];
    const identity = `Client/${named.clientId}`;
    const cached = candidates.find(({ hash, key }) => hash !== null && this.verified.get(key) === hash);
    if (cached) {
      await this.throttle.check(identity, address);
      return cached.client;
    }
    // The same credential from the same address while its check is under way (a client's first burst of
    // requests) waits for that check: one reservation and one KDF, not one each, which could use up the budget.
    const flight = `${candidates.map(({ key, hash }) => `${key} ${hash}`).join(' ')} ${addressBucket(address)}`;
    const running = this.inFlight.get(flight);
    if (running) return running;
    const checking = this.checkReadings(candidates, identity, address).finally(() => this.inFlight.delete(flight));
    this.inFlight.set(flight, checking);
    return checking;
  }

  private async checkReadings(
    candidates: { client: Resource | null; hash: string | null; secret: string; key: string }[],
    identity: string,
    address: string,
  ): Promise<Resource | null> {
    await this.throttle.reserve(identity, address);
    for (const { client, hash, secret, key } of candidates) {
      if ((await verifySecret(secret, hash ?? (await this.dummyHash))) && hash !== null) {
        this.remember(key, hash);
        await this.throttle.succeeded(identity, address);
        return client;
      }
    }
    authFailures.inc({ credential: 'client_secret' });
    return null;
  }

  /**
   * Runs the KDF for a User's password (never cached: logins are rare, and a password is not a client secret).
   * `user` is the User the login names, if any; failures count against it, or against the canonical login when
   * it names none, so an id, an email and a userName of one User share one budget. An inactive User is checked
   * like an unknown one.
   */
  async verifyUserPassword(user: Resource | null, login: string, password: string, address: string): Promise<boolean> {
    const model = user ? userModel(user) : null;
    const hash = model?.active && model.passwordHash !== undefined ? model.passwordHash : null;
    const identity = user ? `User/${user.id}` : `User/${canonicalLogin(login)}`;
    await this.throttle.reserve(identity, address);
    const ok = await verifySecret(password, hash ?? (await this.dummyHash));
    if (!ok || hash === null) {
      authFailures.inc({ credential: 'password' });
      return false;
    }
    await this.throttle.succeeded(identity, address);
    return true;
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
