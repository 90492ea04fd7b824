// Access tokens in two formats with the same claims: a JWT in the shape of RFC 9068, signed with the current
// key, or an opaque random string whose claims are kept in the store under the token's hash.
import { createHash, randomUUID } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import type { Database } from '../store/database.ts';
import { SIGNING_ALGS, type KeyStore } from './keys.ts';
import { signCompact } from './jws.ts';
import { looksLikeJwt, newOpaqueToken, tokenHash } from './opaque.ts';

export type TokenFormat = 'jwt' | 'opaque';

/** RFC 9068 §2.2 claims, plus `sid`, the Session the token belongs to. */
export interface AccessClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  sid: string;
  scope?: string;
  [claim: string]: unknown;
}

export interface AccessTokenRequest {
  format: TokenFormat;
  lifetimeSeconds: number;
  sessionId: string;
  clientId: string;
  /** The user's id, or the client's when there is no user (RFC 9068 §2.2: sub is the client then). */
  subject: string;
  audience: string;
  scope?: string;
}

export type Clock = () => number;

export const seconds = (clock: Clock) => Math.floor(clock() / 1000);

/** Verified JWTs remembered, at most this many (the least recently used goes first). */
const VERIFIED_LIMIT = 10_000;

interface Verified {
  claims: AccessClaims;
  kid: string | undefined;
  /** The key object the signature checked against: a retired or replaced key no longer matches. */
  publicKey: unknown;
}

export class AccessTokens {
  /**
   * JWTs whose signature and claims already checked out, by SHA-256 of the token: a client presents the same
   * token on every request until it expires, and the signature check was most of a Bearer request's CPU. A hit
   * still checks expiry against the clock and that the signing key is still live; whether the Session, Client
   * and User live is asked on every request by the caller, so revocation is unaffected.
   */
  private readonly verified = new Map<string, Verified>();

  constructor(
    private readonly db: Database,
    private readonly keys: KeyStore,
    private readonly issuer: string,
    private readonly clock: Clock,
  ) {}

  async issue(request: AccessTokenRequest): Promise<{ token: string; claims: AccessClaims }> {
    const iat = seconds(this.clock);
    const claims: AccessClaims = {
      iss: this.issuer,
      sub: request.subject,
      aud: request.audience,
      exp: iat + request.lifetimeSeconds,
      iat,
      jti: randomUUID(),
      client_id: request.clientId,
      sid: request.sessionId,
      ...(request.scope && { scope: request.scope }),
    };
    if (request.format === 'opaque') {
      const token = newOpaqueToken();
      await this.db.query(
        `insert into oauth_token (hash, kind, session_id, client_id, claims, expires_at)
         values ($1, 'access', $2, $3, $4::text::jsonb, to_timestamp($5))`,
        [tokenHash(token), request.sessionId, request.clientId, JSON.stringify(claims), claims.exp],
      );
      return { token, claims };
    }
    const key = this.keys.current();
    const token = await signCompact(key.alg, key.signer, { kid: key.kid, typ: 'at+jwt' }, claims);
    return { token, claims };
  }

  /**
   * The claims of a token this server issued, if its signature (or stored hash) checks out and it has not
   * expired; null for anything else. Whether its session still lives is the caller's next question.
   */
  async read(token: string): Promise<AccessClaims | null> {
    return looksLikeJwt(token) ? this.readJwt(token) : this.readOpaque(token);
  }

  /**
   * The claims of a JWT this process has verified already and that is still valid, without verifying anything
   * (null for any other token): such a token is Warden's own, its issuer was checked when it was verified.
   */
  async readVerified(token: string): Promise<AccessClaims | null> {
    return looksLikeJwt(token) ? this.knownJwt(createHash('sha256').update(token).digest('base64url')) : null;
  }

  private async knownJwt(digest: string): Promise<AccessClaims | null> {
    const known = this.verified.get(digest);
    if (known) {
      const key = await this.keys.verificationKey(known.kid);
      const now = seconds(this.clock);
      if (key?.publicKey === known.publicKey && now < known.claims.exp && !(typeof known.claims.nbf === 'number' && now < known.claims.nbf)) {
        this.verified.delete(digest); // most recently used goes last
        this.verified.set(digest, known);
        return { ...known.claims }; // a copy: no caller can change what the next request reads
      }
      this.verified.delete(digest);
    }
    return null;
  }

  private async readJwt(token: string): Promise<AccessClaims | null> {
    const digest = createHash('sha256').update(token).digest('base64url');
    const known = await this.knownJwt(digest);
    if (known) return known;
    const kid = kidOf(token);
    if (kid === null) return null;
    const key = await this.keys.verificationKey(kid);
    if (!key) return null;
    try {
      const { payload } = await jwtVerify(token, key.publicKey, {
        issuer: this.issuer,
        algorithms: SIGNING_ALGS,
        typ: 'at+jwt',
        requiredClaims: ['sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'sid'],
        currentDate: new Date(this.clock()),
      });
      if (typeof payload.client_id !== 'string' || typeof payload.sid !== 'string') return null;
      const claims = payload as AccessClaims;
      this.verified.set(digest, { claims: { ...claims }, kid, publicKey: key.publicKey });
      if (this.verified.size > VERIFIED_LIMIT) this.verified.delete(this.verified.keys().next().value!);
      return claims;
    } catch {
      return null;
    }
  }

  private async readOpaque(token: string): Promise<AccessClaims | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const [row] = await this.db.query<{ claims: AccessClaims | string }>(
      `select claims from oauth_token where hash = $1 and kind = 'access' and expires_at > to_timestamp($2)`,
      [tokenHash(token), seconds(this.clock)],
    );
    if (!row) return null;
    return typeof row.claims === 'string' ? (JSON.parse(row.claims) as AccessClaims) : row.claims;
  }
}

/** The kid of a JWT's protected header; undefined when it names none, null when the header does not decode. */
function kidOf(token: string): string | undefined | null {
  try {
    return decodeProtectedHeader(token).kid;
  } catch {
    return null;
  }
}
