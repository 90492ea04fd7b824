// TokenIntrospector: trust in access tokens issued by another identity provider, in Aidbox's shape.
//   type jwt:    tokens whose `iss` equals `jwt.iss`, verified with keys from `jwks_uri`, inline `jwt.keys`,
//                or the HMAC secret `jwt.secret` (exactly one of the three);
//   type opaque: tokens sent to `introspection_endpoint.url` (RFC 7662) with its `authorization` header.
// A malformed introspector is refused at write time, so a bad one can never weaken verification later.
// A jwt introspector names the audience its tokens must carry (`jwt.aud`, RFC 9068 §4, RFC 8725 §3.9): without it
// a token the provider minted for any other API would be accepted here. `jwt.any_audience: true` is the explicit,
// discouraged opt-out. `speaks_for` lists the local Clients and Users its tokens may act as, besides those it
// created (src/authn/external/identity-mapping.ts).
import { importJWK, type JWK } from 'jose';
import { unprocessable } from '../fhir/outcome.ts';
import type { Resource } from '../store/resource-store.ts';
import { checkOutboundUrl, type WriteSettings } from '../http/outbound-url.ts';
import { compileResourceSchema } from './schema.ts';

/** Signature algorithms accepted with public keys (JWKS or inline keys). Never `none`, never HMAC. */
export const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
/** Signature algorithms accepted with `jwt.secret`. Never a public-key algorithm. */
export const HMAC_ALGS = ['HS256', 'HS384', 'HS512'];
/** RFC 7518 §3.2: an HMAC key at least as long as the hash output; 32 bytes for HS256. */
const MIN_SECRET_BYTES = 32;
const MAX_CACHE_TTL = 86_400;
export const DEFAULT_CACHE_TTL = 300;

export interface TokenIntrospector extends Resource {
  resourceType: 'TokenIntrospector';
  type: 'jwt' | 'opaque';
  jwks_uri?: string;
  jwt?: { iss: string; aud?: string | string[]; any_audience?: boolean; keys?: JWK[]; secret?: string };
  introspection_endpoint?: { url: string; authorization?: string };
  /** Seconds that fetched keys and introspection answers are trusted. */
  cache_ttl?: number;
  /** Create the User named by `box_user`/`sub` when it does not exist yet (just-in-time provisioning). */
  create_user?: boolean;
  /** Local Clients and Users its tokens may speak for, besides those it created; never a first-party client. */
  speaks_for?: { resourceType: 'Client' | 'User'; id: string }[];
  identity_provider?: { id?: string; resourceType?: string };
}

const nonEmpty = { type: 'string', minLength: 1 };

const validateShape = compileResourceSchema({
  type: 'object',
  additionalProperties: false,
  properties: {
    resourceType: { const: 'TokenIntrospector' },
    id: { type: 'string' },
    meta: { type: 'object' },
    description: { type: 'string' },
    type: { enum: ['jwt', 'opaque'] },
    jwks_uri: nonEmpty,
    jwt: {
      type: 'object',
      additionalProperties: false,
      properties: {
        iss: nonEmpty,
        aud: { anyOf: [nonEmpty, { type: 'array', minItems: 1, items: nonEmpty }] },
        any_audience: { type: 'boolean' },
        keys: { type: 'array', minItems: 1, items: { type: 'object', required: ['kty'], properties: { kty: { type: 'string' } } } },
        secret: nonEmpty,
      },
    },
    introspection_endpoint: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: { url: nonEmpty, authorization: nonEmpty },
    },
    cache_ttl: { type: 'integer', minimum: 0, maximum: MAX_CACHE_TTL },
    create_user: { type: 'boolean' },
    speaks_for: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['resourceType', 'id'],
        properties: { resourceType: { enum: ['Client', 'User'] }, id: nonEmpty },
      },
    },
    identity_provider: {
      type: 'object',
      properties: { id: { type: 'string' }, resourceType: { type: 'string' } },
    },
  },
});

const invalid = (field: string, message: string) =>
  unprocessable(`TokenIntrospector.${field} ${message}`, [`TokenIntrospector.${field}`]);


async function checkKey(jwk: JWK, index: number): Promise<void> {
  const field = `jwt.keys.${index}`;
  if (!['RSA', 'EC', 'OKP'].includes(String(jwk.kty))) {
    throw invalid(`${field}.kty`, `must be RSA, EC or OKP (a public key); symmetric keys go in jwt.secret`);
  }
  if ('d' in jwk || 'p' in jwk || 'q' in jwk) throw invalid(field, 'is a private key: give only the public key');
  if (jwk.use !== undefined && jwk.use !== 'sig') throw invalid(`${field}.use`, 'must be "sig"');
  if (jwk.alg !== undefined && !ASYMMETRIC_ALGS.includes(jwk.alg)) {
    throw invalid(`${field}.alg`, `must be one of ${ASYMMETRIC_ALGS.join(', ')}`);
  }
  try {
    // The algorithm only tells jose which key type to expect; any asymmetric one of the right family will do.
    const alg = jwk.alg ?? (jwk.kty === 'RSA' ? 'RS256' : jwk.kty === 'OKP' ? 'EdDSA' : { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[String(jwk.crv)] ?? 'ES256');
    await importJWK(jwk, alg);
  } catch (error) {
    throw invalid(field, `is not a usable public key: ${(error as Error).message}`);
  }
}

/** Whether two issuer URLs name the same server: scheme and host case, default port and trailing slashes aside. */
function sameIssuer(a: string, b: string): boolean {
  const canonical = (raw: string) => {
    try {
      const url = new URL(raw);
      return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
    } catch {
      return raw;
    }
  };
  return canonical(a) === canonical(b);
}

async function checkJwt(introspector: TokenIntrospector, settings: WriteSettings | undefined): Promise<void> {
  const { jwt, jwks_uri } = introspector;
  if (introspector.introspection_endpoint) {
    throw invalid('introspection_endpoint', 'belongs to type "opaque"; a "jwt" introspector verifies signatures itself');
  }
  if (!jwt?.iss) throw invalid('jwt.iss', 'is required for type "jwt": tokens are matched to introspectors by issuer');
  // Warden's own tokens are verified with its own keys only (bearer-hook.ts); an introspector claiming its issuer,
  // in any spelling, could only serve to pass off forged tokens as Warden's (RFC 8725 §3.8).
  if (settings && sameIssuer(jwt.iss, settings.baseUrl)) throw invalid('jwt.iss', "is Warden's own issuer: its tokens need no TokenIntrospector");
  const sources = [jwks_uri !== undefined && 'jwks_uri', jwt.keys !== undefined && 'jwt.keys', jwt.secret !== undefined && 'jwt.secret'].filter(Boolean);
  if (sources.length !== 1) {
    // One key source each, so an HMAC secret and public keys never meet (no HS/RS algorithm confusion).
    throw invalid(
      sources.length === 0 ? 'jwt' : String(sources[1]),
      sources.length === 0 ? 'needs one key source: jwks_uri, jwt.keys or jwt.secret' : `cannot be combined with ${sources[0]}: give exactly one key source`,
    );
  }
  if (jwks_uri !== undefined) checkOutboundUrl('TokenIntrospector.jwks_uri', jwks_uri, settings);
  if (jwt.secret !== undefined && Buffer.byteLength(jwt.secret, 'utf8') < MIN_SECRET_BYTES) {
    throw invalid('jwt.secret', `must be at least ${MIN_SECRET_BYTES} bytes long (RFC 7518 §3.2)`);
  }
  if (jwt.keys) await Promise.all(jwt.keys.map(checkKey));
  if (jwt.aud === undefined && jwt.any_audience !== true) {
    throw invalid('jwt.aud', 'is required: the audience this API is known by at the provider (RFC 9068 §4), or jwt.any_audience: true to accept tokens minted for any API');
  }
  if (jwt.aud !== undefined && jwt.any_audience === true) throw invalid('jwt.any_audience', 'cannot be combined with jwt.aud');
}

function checkOpaque(introspector: TokenIntrospector, settings: WriteSettings | undefined): void {
  for (const field of ['jwt', 'jwks_uri'] as const) {
    if (introspector[field] !== undefined) throw invalid(field, 'belongs to type "jwt"; an "opaque" introspector asks its introspection_endpoint');
  }
  const endpoint = introspector.introspection_endpoint;
  if (!endpoint) throw invalid('introspection_endpoint', 'is required for type "opaque"');
  checkOutboundUrl('TokenIntrospector.introspection_endpoint.url', endpoint.url, settings);
  if (endpoint.authorization !== undefined && /[\r\n]/.test(endpoint.authorization)) {
    throw invalid('introspection_endpoint.authorization', 'must be a single header value');
  }
}

export async function prepareTokenIntrospector(resource: Resource, _db?: unknown, settings?: WriteSettings): Promise<Resource> {
  if (resource.type === undefined) throw invalid('type', 'is required: "jwt" or "opaque"');
  validateShape(resource);
  const introspector = resource as TokenIntrospector;
  if (introspector.type === 'jwt') await checkJwt(introspector, settings);
  else checkOpaque(introspector, settings);
  return resource;
}
