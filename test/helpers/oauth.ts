// Requests to the /auth endpoints as an OAuth client would make them, for the tests of issue 3.
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { Response, TestServer } from './server.ts';
import { basic } from './server.ts';

/** A form-encoded POST to an /auth endpoint; `auth` sends client_secret_basic. */
export async function postForm(
  server: TestServer,
  path: string,
  form: Record<string, string>,
  auth?: { id: string; secret: string },
  headers: Record<string, string> = {},
): Promise<Response> {
  return server.request('POST', path, {
    raw: new URLSearchParams(form).toString(),
    contentType: 'application/x-www-form-urlencoded',
    auth: null,
    headers: { ...(auth && { authorization: basic(auth.id, auth.secret) }), ...headers },
  });
}

export interface AddressedResponse {
  status: number;
  retryAfter: string | undefined;
  wwwAuthenticate: string | undefined;
  text: string;
}

/**
 * A request sent from `localAddress` (any of 127.0.0.0/8 reaches the server), so tests can be several callers.
 * `form` is sent form-encoded; `auth` as Basic credentials.
 */
export function requestFrom(
  baseUrl: string,
  localAddress: string,
  method: string,
  path: string,
  { form, auth, headers = {} }: { form?: Record<string, string>; auth?: { id: string; secret: string }; headers?: Record<string, string> } = {},
): Promise<AddressedResponse> {
  const body = form && new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      `${baseUrl}${path}`,
      {
        method,
        localAddress,
        headers: {
          ...(body !== undefined && { 'content-type': 'application/x-www-form-urlencoded' }),
          ...(auth && { authorization: basic(auth.id, auth.secret) }),
          ...headers,
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode!,
            retryAfter: response.headers['retry-after'],
            wwwAuthenticate: response.headers['www-authenticate'],
            text,
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** A form POST to an /auth endpoint sent from `localAddress`. */
export const postFormFrom = (server: TestServer, localAddress: string, path: string, form: Record<string, string>, auth?: { id: string; secret: string }) =>
  requestFrom(server.url, localAddress, 'POST', path, { form, auth });

export async function createClient(server: TestServer, client: Record<string, unknown>): Promise<void> {
  const response = await server.request('PUT', `/Client/${client.id}`, { body: { resourceType: 'Client', ...client } });
  if (response.status >= 300) throw new Error(`creating Client/${client.id}: ${response.status} ${response.text}`);
}

export async function createUser(server: TestServer, user: Record<string, unknown>): Promise<void> {
  const response = await server.request('PUT', `/User/${user.id}`, { body: { resourceType: 'User', ...user } });
  if (response.status >= 300) throw new Error(`creating User/${user.id}: ${response.status} ${response.text}`);
}

/** A request to the API with a Bearer token. */
export function withBearer(server: TestServer, method: string, path: string, token: string): Promise<Response> {
  return server.request(method, path, { auth: null, headers: { authorization: `Bearer ${token}` } });
}

export function decodeJwtPayload(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

export function decodeJwtHeader(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
}

/** Polls `check` until it returns true, failing after `timeoutMs` (never a fixed sleep). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A SMART backend-services key pair: the private key signs client assertions, `jwk` goes in Client.jwks. */
export interface AssertionKey {
  alg: 'RS384' | 'ES384';
  kid: string;
  privateKey: CryptoKey;
  jwk: Record<string, unknown>;
}

export async function assertionKey(alg: AssertionKey['alg'] = 'ES384'): Promise<AssertionKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${alg}-key`;
  return { alg, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg } };
}

/** A private_key_jwt client assertion (RFC 7523, SMART Backend Services) for the token endpoint `audience`. */
export function clientAssertion(key: AssertionKey, clientId: string, audience: string, jti = randomUUID()): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(audience)
    .setJti(jti)
    .setExpirationTime('5m')
    .sign(key.privateKey);
}

/** A backend-services token: client_credentials with a client assertion; the parsed token response. */
export async function backendToken(server: TestServer, key: AssertionKey, clientId: string, scope: string): Promise<Response> {
  return postForm(server, '/auth/token', {
    grant_type: 'client_credentials',
    scope,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await clientAssertion(key, clientId, `${server.url}/auth/token`),
  });
}
