// A provider's JWKS fetched from its jwks_uri: cached for cache_ttl, one fetch shared by every request that
// waits for it, and refetched early only when a token names a kid it lacks (key rotation), at most once per
// refetch interval, so tokens with made-up kids cannot make Warden hammer the provider.
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { EndpointError, fetchJson } from './bounded-fetch.ts';

const MAX_JWKS_BYTES = 512 * 1024;

export interface RemoteJwksOptions {
  ttlSeconds: number;
  timeoutMs: number;
  allowInsecureUrls: boolean;
  refetchIntervalSeconds: number;
  now?: () => number;
}

function toKeySet(body: unknown): JSONWebKeySet {
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new EndpointError('answered something that is not a JWKS');
  // Only public keys can come from a JWKS; a symmetric key published there would be a secret for everyone.
  return { keys: keys.filter((key) => key && typeof key === 'object' && ['RSA', 'EC', 'OKP'].includes(key.kty)) };
}

export class RemoteJwks {
  private keySet: JWTVerifyGetKey | null = null;
  private fetchedAt = 0;
  private lastRefetch = Number.NEGATIVE_INFINITY;
  private pending: Promise<JWTVerifyGetKey> | null = null;
  private readonly now: () => number;

  constructor(
    readonly url: string,
    private readonly options: RemoteJwksOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** A jose key resolver: picks among the provider's keys by the token's alg and kid, never from its other headers. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const fresh = this.keySet && this.now() - this.fetchedAt < this.options.ttlSeconds * 1000;
    const keySet = fresh ? this.keySet! : await this.load();
    try {
      return await keySet(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || !this.mayRefetch()) throw error;
      this.lastRefetch = this.now();
      return (await this.load())(header, token);
    }
  };

  private mayRefetch(): boolean {
    return this.now() - this.lastRefetch >= this.options.refetchIntervalSeconds * 1000;
  }

  /** Fetches the JWKS, or joins the fetch already under way. */
  private load(): Promise<JWTVerifyGetKey> {
    this.pending ??= (async () => {
      try {
        const body = await fetchJson(this.url, { headers: { accept: 'application/json' } }, {
          timeoutMs: this.options.timeoutMs,
          allowInsecureUrls: this.options.allowInsecureUrls,
          maxBytes: MAX_JWKS_BYTES,
        });
        this.keySet = createLocalJWKSet(toKeySet(body));
        this.fetchedAt = this.now();
        return this.keySet;
      } finally {
        this.pending = null;
      }
    })();
    return this.pending;
  }
}
