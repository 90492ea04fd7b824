// A real, independent identity provider for the tests: panva's oidc-provider, issuing client_credentials
// access tokens as JWTs (resource indicator urn:warden:jwt) or opaque (urn:warden:opaque), serving its JWKS and
// RFC 7662 introspection. Its keys can be rotated while it runs; its JWKS and introspection endpoints count
// their calls.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import Provider from 'oidc-provider';
import { freePort } from '../helpers/server.ts';

export const APP = { id: 'ext-app', secret: 'ext-app-secret-0123456789' };
/** The resource server credentials Warden uses to call the introspection endpoint. */
export const RS = { id: 'warden-rs', secret: 'warden-rs-secret-0123456789' };
export const JWT_RESOURCE = 'urn:warden:jwt';
export const OPAQUE_RESOURCE = 'urn:warden:opaque';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  privateJwk: JWK;
  publicJwk: JWK;
}

export async function rsaKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, privateJwk, publicJwk };
}

export interface TestProvider {
  issuer: string;
  jwksUri: string;
  introspectionUrl: string;
  /** Keys, newest (the one that signs) first. */
  keys: SigningKey[];
  /** Claims added to every access token issued from now on. */
  extraClaims: Record<string, unknown>;
  counts: { jwks: number; introspection: number };
  token(resource: string, scope?: string): Promise<string>;
  /** Signs a token with the provider's current key, with any claims: to test Warden's checks claim by claim. */
  sign(claims: JWTPayload, header?: Record<string, unknown>): Promise<string>;
  /** Starts signing with a new key; the old one stays in the JWKS so tokens it signed still verify. */
  rotate(): Promise<SigningKey>;
  close(): Promise<void>;
}

function build(issuer: string, keys: SigningKey[], extraClaims: () => Record<string, unknown>): Provider {
  const provider = new Provider(issuer, {
    clients: [
      { client_id: APP.id, client_secret: APP.secret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
      { client_id: RS.id, client_secret: RS.secret, grant_types: [], redirect_uris: [], response_types: [] },
    ],
    jwks: { keys: keys.map((key) => key.privateJwk) },
    cookies: { keys: ['cookie-key-for-tests-only'] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => JWT_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => ({
          scope: 'read write',
          audience: resource,
          accessTokenTTL: 600,
          accessTokenFormat: resource === OPAQUE_RESOURCE ? 'opaque' : 'jwt',
          ...(resource !== OPAQUE_RESOURCE && { jwt: { sign: { alg: 'RS256' } } }),
        }),
      },
    },
    extraTokenClaims: () => extraClaims(),
  });
  return provider;
}

export async function startProvider(): Promise<TestProvider> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const keys = [await rsaKey('key-1')];
  const state = {
    issuer,
    jwksUri: `${issuer}/jwks`,
    introspectionUrl: `${issuer}/token/introspection`,
    keys,
    extraClaims: {} as Record<string, unknown>,
    counts: { jwks: 0, introspection: 0 },
  };
  let provider = build(issuer, keys, () => state.extraClaims);
  let handler = provider.callback();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/jwks')) state.counts.jwks++;
    if (req.url?.startsWith('/token/introspection')) state.counts.introspection++;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

  return Object.assign(state, {
    async token(resource: string, scope = 'read') {
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${APP.id}:${APP.secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }).toString(),
      });
      const body = (await response.json()) as { access_token?: string };
      if (!response.ok || !body.access_token) throw new Error(`provider refused a token: ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async sign(claims: JWTPayload, header: Record<string, unknown> = {}) {
      const [key] = state.keys;
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'at+jwt', ...header }).sign(key.privateKey);
    },
    async rotate() {
      const key = await rsaKey(`key-${state.keys.length + 1}`);
      state.keys.unshift(key);
      // A provider's keys are fixed when it is built: rotating is building it again with the new key first.
      provider = build(issuer, state.keys, () => state.extraClaims);
      handler = provider.callback();
      return key;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
