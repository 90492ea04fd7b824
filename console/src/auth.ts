// Logging in to the console: authorization code with PKCE against Warden's own /auth/authorize.
// The access token lives only in this module's memory: never in localStorage, sessionStorage, a cookie or a URL.
// A reload therefore logs in again, which is silent while the Warden login (its browser session) lasts.
import { challengeOf, createVerifier, randomToken } from './pkce.ts';
import type { ConsoleSettings } from './settings.ts';

/** Only what must survive the round trip to /auth/authorize: one-time values, deleted on return. */
const PENDING_KEY = 'warden-console.pending-login';

interface PendingLogin {
  state: string;
  verifier: string;
  returnTo: string;
}

export interface Login {
  accessToken: string;
  expiresAt: number | null;
  /** Claims of the token when it is a JWT; shown in the header, never trusted for decisions. */
  claims: Record<string, unknown>;
}

let current: Login | null = null;

export function session(): Login | null {
  if (current && current.expiresAt !== null && Date.now() >= current.expiresAt) current = null;
  return current;
}

export function accessToken(): string | null {
  return session()?.accessToken ?? null;
}

export function forget(): void {
  current = null;
}

export async function beginLogin(settings: ConsoleSettings, returnTo: string): Promise<never> {
  const pending: PendingLogin = { state: randomToken(24), verifier: createVerifier(), returnTo };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = new URL(settings.authorizationEndpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: settings.clientId,
    redirect_uri: settings.redirectUri,
    scope: 'openid',
    state: pending.state,
    code_challenge: await challengeOf(pending.verifier),
    code_challenge_method: 'S256',
  }).toString();
  window.location.assign(url.toString());
  return new Promise<never>(() => {});
}

export class LoginError extends Error {}

/** Handles /console/callback: checks state, exchanges the code, and returns where the user was going. */
export async function completeLogin(settings: ConsoleSettings, callback: URL): Promise<string> {
  const raw = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  const params = callback.searchParams;
  if (params.get('error')) {
    throw new LoginError(`${params.get('error')}: ${params.get('error_description') ?? 'the login was not completed'}`);
  }
  const pending = raw ? (JSON.parse(raw) as PendingLogin) : null;
  // RFC 6749 §10.12: a response we did not ask for, or asked for in another tab, is dropped.
  if (!pending || params.get('state') !== pending.state) throw new LoginError('This login response does not match a login started here. Please log in again.');
  // RFC 9207: when the server names itself, it must be the server we sent the user to.
  const iss = params.get('iss');
  if (iss !== null && iss !== settings.baseUrl) throw new LoginError(`The login response came from an unexpected issuer "${iss}".`);
  const code = params.get('code');
  if (!code) throw new LoginError('The login response carries no authorization code.');

  const response = await fetch(settings.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: settings.redirectUri,
      client_id: settings.clientId,
      code_verifier: pending.verifier,
    }),
    cache: 'no-store',
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok || typeof body.access_token !== 'string') {
    throw new LoginError(`The token endpoint refused the code: ${body.error_description ?? body.error ?? `HTTP ${response.status}`}`);
  }
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : null;
  current = {
    accessToken: body.access_token,
    // Renew a little early, so a request is never sent with a token about to lapse.
    expiresAt: expiresIn === null ? null : Date.now() + Math.max(expiresIn - 30, 5) * 1000,
    claims: { ...decodeClaims(body.access_token), ...(typeof body.id_token === 'string' ? decodeClaims(body.id_token) : {}), ...userFrom(body) },
  };
  return pending.returnTo.startsWith('/console/') ? pending.returnTo : '/console/';
}

function userFrom(body: Record<string, unknown>): Record<string, unknown> {
  const user = body.userinfo ?? body.user;
  return user && typeof user === 'object' ? { user } : {};
}

function decodeClaims(token: string): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3) return {};
  try {
    const json = atob(parts[1]!.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** A name for the person logged in, for the header. */
export function displayName(login: Login): string {
  const claims = login.claims;
  const user = claims.user as Record<string, unknown> | undefined;
  for (const value of [claims.name, claims.email, claims.preferred_username, user?.email, user?.id, claims.sub]) {
    if (typeof value === 'string' && value) return value;
  }
  return 'administrator';
}
