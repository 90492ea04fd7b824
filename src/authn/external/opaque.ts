// Opaque tokens from another provider, checked by its RFC 7662 introspection endpoint. Answers are cached by a
// hash of the token (never the token itself) for cache_ttl, never past the token's own `exp`; concurrent
// requests with one token share one call; an endpoint that is down or slow gives 401 after a short timeout.
import { createHash } from 'node:crypto';
import { type TokenIntrospector } from '../../iam/token-introspector.ts';
import { EndpointError, fetchJson } from './bounded-fetch.ts';
import { invalidToken } from './errors.ts';
import type { OperatorLog } from './jwt-verifier.ts';

/** Opaque answers are trusted for a minute by default: long enough to spare the provider, short for revocation. */
export const DEFAULT_OPAQUE_CACHE_TTL = 60;
const MAX_ANSWER_BYTES = 64 * 1024;
const CACHE_LIMIT = 10_000;

/** An RFC 7662 §2.2 answer; only `active` is required. */
export type IntrospectionAnswer = Record<string, unknown> & { active: boolean };

export interface OpaqueSettings {
  timeoutMs: number;
  /** WARDEN_ALLOW_INSECURE_JWKS_URIS (src/http/outbound-url.ts). */
  allowInsecureJwksUris: boolean;
  clockSkewSeconds: number;
  now?: () => number;
}

const INACTIVE: IntrospectionAnswer = { active: false };

export class OpaqueIntrospector {
  private readonly cache = new Map<string, { answer: IntrospectionAnswer; until: number }>();
  private readonly pending = new Map<string, Promise<IntrospectionAnswer>>();
  private readonly now: () => number;

  constructor(
    readonly introspector: TokenIntrospector,
    private readonly settings: OpaqueSettings,
  ) {
    this.now = settings.now ?? Date.now;
  }

  /** The provider's answer for `token`: active and current, or `{active: false}`. Throws 401 if it cannot answer. */
  async introspect(token: string, log?: OperatorLog): Promise<IntrospectionAnswer> {
    const key = createHash('sha256').update(token).digest('base64url');
    const cached = this.cache.get(key);
    if (cached && cached.until > this.now()) return this.current(cached.answer);
    let call = this.pending.get(key);
    if (!call) {
      call = this.call(token).finally(() => this.pending.delete(key));
      this.pending.set(key, call);
    }
    let answer: IntrospectionAnswer;
    try {
      answer = await call;
    } catch (error) {
      if (!(error instanceof EndpointError)) throw error;
      log?.warn({ tokenIntrospector: this.introspector.id }, `introspection_endpoint ${error.message}`);
      throw invalidToken(`The introspection endpoint of TokenIntrospector "${this.introspector.id}" could not be reached`);
    }
    this.remember(key, answer);
    return this.current(answer);
  }

  /** An answer stays true only while the token's own time window allows (RFC 7662 §2.2 exp, nbf). */
  private current(answer: IntrospectionAnswer): IntrospectionAnswer {
    if (!answer.active) return INACTIVE;
    const now = this.now() / 1000;
    const skew = this.settings.clockSkewSeconds;
    if (typeof answer.exp === 'number' && answer.exp + skew <= now) return INACTIVE;
    if (typeof answer.nbf === 'number' && answer.nbf - skew > now) return INACTIVE;
    return answer;
  }

  private remember(key: string, answer: IntrospectionAnswer) {
    const ttl = (this.introspector.cache_ttl ?? DEFAULT_OPAQUE_CACHE_TTL) * 1000;
    if (ttl <= 0) return;
    let until = this.now() + ttl;
    if (answer.active && typeof answer.exp === 'number') until = Math.min(until, answer.exp * 1000);
    this.cache.delete(key);
    this.cache.set(key, { answer, until });
    if (this.cache.size > CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
  }

  private async call(token: string): Promise<IntrospectionAnswer> {
    const endpoint = this.introspector.introspection_endpoint!;
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (endpoint.authorization) headers.authorization = endpoint.authorization;
    const body = new URLSearchParams({ token, token_type_hint: 'access_token' }).toString();
    const answer = await fetchJson(endpoint.url, { method: 'POST', headers, body }, {
      timeoutMs: this.settings.timeoutMs,
      allowInsecureUrls: this.settings.allowInsecureJwksUris,
      maxBytes: MAX_ANSWER_BYTES,
    });
    if (!answer || typeof answer !== 'object' || Array.isArray(answer)) {
      throw new EndpointError('answered something that is not an introspection response');
    }
    // RFC 7662 §2.2: anything but a literal `true` means the token is not active.
    const fields = answer as Record<string, unknown>;
    return fields.active === true ? { ...fields, active: true } : INACTIVE;
  }
}
