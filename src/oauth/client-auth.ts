// Client authentication at the /auth endpoints (RFC 6749 §2.3): client_secret_basic, client_secret_post and
// private_key_jwt (RFC 7523 §2.2 and §3), exactly one per request. An unknown client and a wrong secret fail
// the same way, with the same work done.
import type { FastifyRequest } from 'fastify';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { basicCandidates, decodeBasic } from '../authn/basic.ts';
import type { SecretChecker } from '../authn/secret-check.ts';
import { InvalidCredentials, Throttled } from '../errors.ts';
import type { Database } from '../store/database.ts';
import type { Resource } from '../store/resource-store.ts';
import { outboundUrlProblem } from '../http/outbound-url.ts';
import { clientModel } from '../iam/client-model.ts';
import { invalidClient, invalidRequest, throttled } from './errors.ts';
import type { Params } from './params.ts';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
export const CLIENT_AUTH_METHODS: ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const ASSERTION_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface AuthenticatedClient {
  client: Resource;
  method: ClientAuthMethod;
}

/** May this client, sending only its id, use the endpoint (a public client where the grant allows it)? */
export type PublicClientRule = (client: Resource) => boolean;

const FAILED = 'Client authentication failed';
/**
 * A client assertion is for one request, made just before it (RFC 7523 §3 lets the server bound how far in
 * the future `exp` lies): an assertion valid for days is a bearer credential in disguise, and each keeps its
 * jti stored until it expires. `iat` may not lie in the future either, beyond the clocks' disagreement.
 */
const MAX_ASSERTION_LIFETIME_SECONDS = 300;
const ASSERTION_CLOCK_SKEW_SECONDS = 60;
/** Remote key sets, one per jwks_uri, so their HTTP caching and cooldown work across requests. */
const remoteKeySets = new Map<string, JWTVerifyGetKey>();

export class ClientAuthenticator {
  constructor(
    private readonly secrets: SecretChecker,
    private readonly db: Database,
    private readonly issuer: string,
    /** WARDEN_ALLOW_INSECURE_JWKS_URIS: a jwks_uri may be plain http or link-local (development only). */
    private readonly allowInsecureJwksUris = false,
  ) {}

  async authenticate(request: FastifyRequest, params: Params, allowPublic: PublicClientRule = () => false): Promise<AuthenticatedClient> {
    const header = request.headers.authorization;
    const basic = header !== undefined && /^basic\s/i.test(header.trim());
    if (header !== undefined && !basic) throw invalidClient('Client authentication at this endpoint uses Basic, client_secret in the body, or a client assertion', true);
    const post = params.client_secret !== undefined;
    const assertion = params.client_assertion !== undefined || params.client_assertion_type !== undefined;
    if (Number(basic) + Number(post) + Number(assertion) > 1) {
      throw invalidRequest('Use exactly one client authentication method (RFC 6749 §2.3)');
    }
    try {
      if (basic) return await this.secretBasic(header!.trim().slice(6).trim(), params, request.ip);
      if (post) return await this.secretPost(params, request.ip);
      if (assertion) return await this.privateKeyJwt(params, `${this.issuer}${request.url.split('?')[0]}`);
    } catch (error) {
      if (error instanceof Throttled) throw throttled(error.retryAfter);
      throw error;
    }
    return this.none(params, allowPublic);
  }

  private async secretBasic(encoded: string, params: Params, address: string): Promise<AuthenticatedClient> {
    let credentials: { id: string; secret: string };
    try {
      credentials = decodeBasic(encoded);
    } catch (error) {
      if (error instanceof InvalidCredentials) throw invalidClient(error.message, true);
      throw error;
    }
    const client = await this.secrets.verifyClientReadings(basicCandidates(credentials.id, credentials.secret), address);
    if (!client) throw invalidClient(FAILED, true);
    if (params.client_id !== undefined && params.client_id !== client.id) {
      throw invalidRequest('client_id in the body differs from the client authenticated by Basic');
    }
    return this.usable(client, 'client_secret_basic');
  }

  private async secretPost(params: Params, address: string): Promise<AuthenticatedClient> {
    if (params.client_id === undefined) throw invalidRequest('client_secret was sent without client_id');
    const client = await this.secrets.verifyClient(params.client_id, params.client_secret!, address);
    if (!client) throw invalidClient(FAILED);
    return this.usable(client, 'client_secret_post');
  }

  /** RFC 7523 §3: iss = sub = client id, aud = this server, exp required, and each jti used once. */
  private async privateKeyJwt(params: Params, endpoint: string): Promise<AuthenticatedClient> {
    if (params.client_assertion_type !== JWT_BEARER_ASSERTION) {
      throw invalidRequest(`client_assertion_type must be "${JWT_BEARER_ASSERTION}"`);
    }
    const assertion = params.client_assertion;
    if (assertion === undefined) throw invalidRequest('Missing required parameter "client_assertion"');
    let clientId: unknown;
    try {
      clientId = decodeJwt(assertion).sub;
    } catch {
      throw invalidClient('The client assertion is not a JWT');
    }
    if (typeof clientId !== 'string' || clientId === '') throw invalidClient('The client assertion has no sub');
    if (params.client_id !== undefined && params.client_id !== clientId) throw invalidClient('client_id differs from the assertion\'s sub');
    const client = await this.secrets.readLive('Client', clientId);
    const keys = client && this.clientKeysOrNull(client);
    if (!client || !keys) throw invalidClient(FAILED);
    let payload;
    try {
      ({ payload } = await jwtVerify(assertion, keys, {
        issuer: clientId,
        subject: clientId,
        audience: [this.issuer, `${this.issuer}/auth/token`, endpoint],
        algorithms: ASSERTION_ALGS,
        requiredClaims: ['exp', 'jti'],
      }));
    } catch (error) {
      throw invalidClient(`The client assertion is not valid: ${(error as Error).message.slice(0, 200)}`);
    }
    const now = Math.floor(Date.now() / 1000);
    if (payload.exp! - now > MAX_ASSERTION_LIFETIME_SECONDS + ASSERTION_CLOCK_SKEW_SECONDS) {
      throw invalidClient(`The client assertion expires too late: exp may be at most ${MAX_ASSERTION_LIFETIME_SECONDS} seconds from now`);
    }
    if (payload.iat !== undefined && payload.iat - now > ASSERTION_CLOCK_SKEW_SECONDS) throw invalidClient('The client assertion was issued in the future (iat)');
    await this.consumeJti(clientId, String(payload.jti), payload.exp!);
    return this.usable(client, 'private_key_jwt');
  }

  private none(params: Params, allowPublic: PublicClientRule): Promise<AuthenticatedClient> | AuthenticatedClient {
    if (params.client_id === undefined) throw invalidClient('Client authentication required');
    return this.secrets.readLive('Client', params.client_id).then((client) => {
      if (!client || !allowPublic(client)) throw invalidClient(FAILED);
      return this.usable(client, 'none');
    });
  }

  private usable(client: Resource, method: ClientAuthMethod): AuthenticatedClient {
    if (!clientModel(client).active) throw invalidClient(FAILED);
    return { client, method };
  }

  private clientKeysOrNull(client: Resource): JWTVerifyGetKey | null {
    try {
      return this.clientKeys(client);
    } catch {
      return null; // a malformed Client.jwks authenticates nobody
    }
  }

  private clientKeys(client: Resource): JWTVerifyGetKey | null {
    const { jwks, jwksUri } = clientModel(client);
    if (jwks && typeof jwks === 'object') return createLocalJWKSet(jwks as JSONWebKeySet);
    if (jwksUri !== undefined) {
      // One stored by hand, or before the rule: never fetched from (SSRF, src/http/outbound-url.ts).
      if (outboundUrlProblem(jwksUri, this.allowInsecureJwksUris)) return null;
      let keySet = remoteKeySets.get(jwksUri);
      if (!keySet) {
        keySet = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: 5000 });
        remoteKeySets.set(jwksUri, keySet);
      }
      return keySet;
    }
    return null;
  }

  /** Records the jti until the assertion expires; a second use is refused (RFC 7523 §3, item 7). */
  private async consumeJti(clientId: string, jti: string, exp: number): Promise<void> {
    await this.db.query('delete from client_assertion_jti where expires_at < now()');
    const inserted = await this.db.query(
      `insert into client_assertion_jti (client_id, jti, expires_at) values ($1, $2, to_timestamp($3))
       on conflict do nothing returning jti`,
      [clientId, jti, exp],
    );
    if (inserted.length === 0) throw invalidClient('The client assertion was already used (jti replay)');
  }
}
