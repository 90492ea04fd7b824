// Requests to the /auth endpoints as an OAuth client would make them, for the tests of issue 3.
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
