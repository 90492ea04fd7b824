// Verifies a JWT from another identity provider as strictly as the best resource servers do (RFC 8725):
//   - the signature, with the introspector's own algorithms only: public-key ones for JWKS and inline keys,
//     HMAC ones for a secret. `none` is never accepted, and an HMAC token never meets a public key, so the
//     public key cannot be abused as an HMAC secret (algorithm confusion);
//   - `kid` only selects among the configured keys; `jku`, `x5u`, `jwk` and `x5c` headers are ignored;
//   - `exp` required, `exp`/`nbf`/`iat` with a small bounded clock skew; `iss` exact; `aud` required unless the
//     introspector opts out with `jwt.any_audience` (RFC 9068 §4, RFC 8725 §3.9);
//   - a JWT of another kind is not an access token (RFC 8725 §3.11, RFC 9068 §4): a `typ` other than JWT or
//     at+jwt (a logout token, a SET, a DPoP proof...), an ID token's own claims (`at_hash`, `c_hash`), or
//     Keycloak's `typ` claim naming an ID, refresh or logout token;
//   - `crit` headers are refused (jose understands none of them, RFC 7515 §4.1.11).
import { createSecretKey } from 'node:crypto';
import { createLocalJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { ASYMMETRIC_ALGS, DEFAULT_CACHE_TTL, HMAC_ALGS, type TokenIntrospector } from '../../iam/token-introspector.ts';
import { EndpointError } from './bounded-fetch.ts';
import { invalidToken } from './errors.ts';
import { RemoteJwks } from './remote-jwks.ts';

export interface JwtVerifierSettings {
  timeoutMs: number;
  /** WARDEN_ALLOW_INSECURE_JWKS_URIS (src/http/outbound-url.ts). */
  allowInsecureJwksUris: boolean;
  clockSkewSeconds: number;
  jwksRefetchIntervalSeconds: number;
}

type Key = Parameters<typeof jwtVerify>[1];

/** `typ` values of an access token (RFC 9068 §2.1; RFC 7515 §4.1.9 lets `application/` be left out). */
const ACCESS_TOKEN_TYPES = new Set(['jwt', 'at+jwt', 'application/jwt', 'application/at+jwt']);
/** Claims only an OpenID Connect ID token carries (OIDC Core §3.1.3.6, §3.3.2.11). */
const ID_TOKEN_CLAIMS = ['at_hash', 'c_hash'];
/** Keycloak's own `typ` claim names the kind of its tokens; these are not access tokens. */
const OTHER_TOKEN_KINDS = new Set(['id', 'refresh', 'offline', 'logout']);

/** Where failures of the provider's endpoints are reported to operators (a request's pino logger). */
export interface OperatorLog {
  warn(details: object, message: string): void;
}

/** Why a token was refused, in words its holder can act on; no token content beyond claim names. */
function describe(error: unknown, introspector: TokenIntrospector): string {
  const name = `TokenIntrospector "${introspector.id}"`;
  if (error instanceof errors.JWTExpired) return 'The token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'The token is not valid yet (nbf is in the future)';
    if (error.claim === 'aud') return `The token's audience (aud) is not one accepted by ${name}`;
    if (error.claim === 'iss') return `The token's issuer does not match ${name}`;
    if (error.reason === 'missing') return `The token lacks the required "${error.claim}" claim`;
    return `The token's "${error.claim}" claim is invalid`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return `The token's signature algorithm is not accepted by ${name}`;
  if (error instanceof errors.JWKSNoMatchingKey) return `No key of ${name} matches the token's kid and alg`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return `The token's signature does not verify with the keys of ${name}`;
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return 'The token is not a well-formed JWT';
  if (error instanceof errors.JOSENotSupported) return `The token uses a feature ${name} does not accept`;
  return 'The token could not be verified';
}

/**
 * When several configured keys fit the token's header (no kid, or a kid used twice), each is tried; the
 * token is valid if one of them verifies it.
 */
async function verifyWithAnyKey(token: string, getKey: JWTVerifyGetKey | Key, options: JWTVerifyOptions) {
  try {
    return await jwtVerify(token, getKey as JWTVerifyGetKey, options);
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const key of error) {
      try {
        return await jwtVerify(token, key, options);
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

export class JwtVerifier {
  private readonly key: JWTVerifyGetKey | Key;
  private readonly options: JWTVerifyOptions;

  constructor(
    readonly introspector: TokenIntrospector,
    private readonly settings: JwtVerifierSettings,
  ) {
    const jwt = introspector.jwt!;
    // One stored before the audience was required (or by hand) trusts nothing until it names one.
    if (jwt.aud === undefined && jwt.any_audience !== true) throw new Error(`TokenIntrospector "${introspector.id}" names no jwt.aud`);
    const secret = jwt.secret !== undefined;
    if (introspector.jwks_uri) {
      const remote = new RemoteJwks(introspector.jwks_uri, {
        ttlSeconds: introspector.cache_ttl ?? DEFAULT_CACHE_TTL,
        timeoutMs: settings.timeoutMs,
        allowInsecureUrls: settings.allowInsecureJwksUris,
        refetchIntervalSeconds: settings.jwksRefetchIntervalSeconds,
      });
      this.key = remote.getKey;
    } else if (secret) {
      this.key = createSecretKey(Buffer.from(jwt.secret!, 'utf8'));
    } else {
      this.key = createLocalJWKSet({ keys: jwt.keys! });
    }
    this.options = {
      algorithms: secret ? HMAC_ALGS : ASYMMETRIC_ALGS,
      issuer: jwt.iss,
      ...(jwt.aud !== undefined && { audience: jwt.aud }),
      clockTolerance: settings.clockSkewSeconds,
      requiredClaims: ['exp'],
    };
  }

  get issuer(): string {
    return this.introspector.jwt!.iss;
  }

  /** The verified claims, or a 401 saying why not. */
  async verify(token: string, log?: OperatorLog): Promise<JWTPayload> {
    let payload: JWTPayload;
    let typ: string | undefined;
    try {
      ({ payload, protectedHeader: { typ } } = await verifyWithAnyKey(token, this.key, this.options));
    } catch (error) {
      if (error instanceof EndpointError) {
        log?.warn({ tokenIntrospector: this.introspector.id }, `jwks_uri ${error.message}`);
        throw invalidToken(`The keys of TokenIntrospector "${this.introspector.id}" could not be fetched`);
      }
      throw invalidToken(describe(error, this.introspector));
    }
    if (typ !== undefined && !ACCESS_TOKEN_TYPES.has(typ.toLowerCase())) {
      throw invalidToken(`The token's type (typ "${typ.slice(0, 40)}") is not an access token`);
    }
    const kind = typeof payload.typ === 'string' ? payload.typ.toLowerCase() : undefined;
    if (ID_TOKEN_CLAIMS.some((claim) => claim in payload) || (kind && OTHER_TOKEN_KINDS.has(kind))) {
      throw invalidToken('The token is an ID, refresh or logout token, not an access token');
    }
    // jose checks iat only against a maximum age; a token issued in the future is as suspect as an early nbf.
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + this.settings.clockSkewSeconds) {
      throw invalidToken('The token was issued in the future (iat)');
    }
    return payload;
  }
}
