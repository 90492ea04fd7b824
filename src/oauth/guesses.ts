// Random values a client presents (authorization codes, refresh tokens, tokens to introspect) cannot be
// guessed, but guessing them must not be free either (OWASP ASVS 5.0 V6.3.1; RFC 6749 §10.10): failures are
// counted per client and address, and an address that used up its failures gets 429 like a failed login.
// Only the client's failures from that address hold it back, never a global count: anyone may send a public
// client's id, and must not shut it out for everyone.
import type { FailureThrottle } from '../authn/throttle.ts';
import { OAuthError } from './errors.ts';

export class GuessThrottle {
  private readonly identity: string;

  constructor(
    private readonly throttle: FailureThrottle,
    kind: 'code' | 'refresh_token' | 'introspect',
    clientId: string,
    private readonly address: string,
  ) {
    this.identity = `${kind}:Client/${clientId}`;
  }

  /** Throws Throttled when this client has used up its failures from this address. */
  check(): Promise<void> {
    return this.throttle.check(this.identity, this.address, { lockIdentity: false });
  }

  failed(): Promise<void> {
    return this.throttle.recordFailure(this.identity, this.address);
  }

  /** Runs a redemption, counting its invalid_grant as a failed guess. */
  async redeem<T>(redemption: () => Promise<T>): Promise<T> {
    await this.check();
    try {
      return await redemption();
    } catch (error) {
      if (error instanceof OAuthError && error.error === 'invalid_grant') await this.failed();
      throw error;
    }
  }
}
