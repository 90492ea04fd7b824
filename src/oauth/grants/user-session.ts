// Tokens for a user who signed in through the browser (authorization code and implicit flows): a token Session
// linked to the browser session, so logging out ends it (unless `offline_access` was granted, see
// ../refresh-access.ts), and an ID token when `openid` was granted.
import { browserSessionEnd, type BrowserSession } from '../../authn/browser-session.ts';
import type { AuthServices } from '../../authn/services.ts';
import type { Database } from '../../store/database.ts';
import type { Resource } from '../../store/resource-store.ts';
import { seconds } from '../../tokens/access-token.ts';
import { signIdToken } from '../../tokens/id-token.ts';
import { invalidGrant } from '../errors.ts';
import type { GrantSettings } from '../../iam/client-model.ts';
import { refreshAccess } from '../refresh-access.ts';
import { issueInSession, type TokenResponse } from '../token-response.ts';
import { fhirUserClaim } from '../../iam/user.ts';
import type { LaunchContext } from '../../smart/launch-contexts.ts';

export interface UserTokenRequest {
  grant: 'authorization_code' | 'implicit';
  issuer: string;
  client: Resource;
  user: Resource;
  scope?: string;
  settings: GrantSettings;
  browser: { sid: string; authTime: Date };
  nonce?: string;
  /** SMART launch context chosen at authorization. */
  launch?: LaunchContext;
}

export interface UserTokens {
  response: TokenResponse & { id_token?: string };
  sessionId: string;
}

export async function issueUserTokens(services: AuthServices, request: UserTokenRequest): Promise<UserTokens> {
  const { client, user } = request;
  const refresh = request.grant === 'authorization_code' ? refreshAccess(client, request.grant, request.scope) : null;
  const settings: GrantSettings = { ...request.settings, refreshToken: refresh !== null };
  const now = seconds(services.clock);
  let expiresAt = now + (refresh ? settings.refreshTokenLifetime : settings.accessTokenLifetime);
  if (refresh !== 'offline') {
    // Tied to the sign-in: nothing issued may outlive it, and nothing is issued once it is over.
    const signInEnd = await browserSessionEnd(services.sessions.db, request.browser.sid);
    if (signInEnd === null) throw invalidGrant('The user signed out before the authorization code was exchanged');
    expiresAt = Math.min(expiresAt, signInEnd);
  }
  const audience = settings.audience ?? request.issuer;
  const continued = refresh === 'offline' || request.launch ? null : await sessionToContinue(services, request, audience, now);
  if (continued) {
    const response = await issueInSession(services, { grant: request.grant, client, user, audience, scope: request.scope, settings }, continued.id, continued.exp, now);
    return { response: await withIdToken(services, request, response), sessionId: continued.id };
  }
  const session = await services.sessions.create({
    grant: request.grant,
    clientId: client.id,
    userId: user.id,
    audience,
    scope: request.scope,
    expiresAt,
    ...(request.launch && { launch: { ...request.launch } }),
  });
  if (refresh !== 'offline') {
    await linkToBrowserSession(services.sessions.db, request.browser.sid, session.id);
    // A logout between the check above and this link would have missed the new session: look once more.
    if ((await browserSessionEnd(services.sessions.db, request.browser.sid)) === null) {
      await services.sessions.end(session.id);
      throw invalidGrant('The user signed out before the authorization code was exchanged');
    }
  }
  const response = await issueInSession(
    services,
    { grant: request.grant, client, user, audience, scope: request.scope, settings, launch: request.launch },
    session.id,
    expiresAt,
    now,
  );
  return { response: await withIdToken(services, request, response), sessionId: session.id };
}

/** With `openid` granted, the ID token (OIDC Core §3.1.3.3) beside the access token it hashes. */
async function withIdToken(services: AuthServices, request: UserTokenRequest, response: TokenResponse): Promise<UserTokens['response']> {
  const { client, user } = request;
  if (request.scope?.split(' ').includes('openid')) {
    response.id_token = await signIdToken(services.keys, services.clock, {
      issuer: request.issuer,
      clientId: client.id,
      userId: user.id,
      authTime: request.browser.authTime,
      sid: request.browser.sid,
      nonce: request.nonce,
      accessToken: response.access_token,
      lifetimeSeconds: response.expires_in,
      claims: fhirUserClaim(user, request.scope, request.issuer),
    });
  }
  return response;
}

/**
 * The live Session the same app already has in this browser login, for the same user, grant, scope and audience,
 * and no launch context: a page that keeps its token only in memory (the console) signs in again at every reload,
 * and continues that Session instead of piling up a new one each time.
 */
async function sessionToContinue(services: AuthServices, request: UserTokenRequest, audience: string, now: number): Promise<{ id: string; exp: number } | null> {
  const rows = await services.sessions.db.query<{ session_id: string }>('select session_id from browser_session_token where sid = $1', [request.browser.sid]);
  for (const { session_id: id } of rows) {
    const live = await services.sessions.live(id, request.client.id, request.user.id, now);
    const session = live?.session;
    if (!session || session.launch !== undefined || typeof session.exp !== 'number') continue;
    if (session.type === request.grant && session.audience === audience && (session.scope ?? undefined) === (request.scope || undefined)) return { id, exp: session.exp };
  }
  return null;
}

async function linkToBrowserSession(db: Database, sid: string, sessionId: string): Promise<void> {
  await db.query('insert into browser_session_token (sid, session_id) values ($1, $2) on conflict do nothing', [sid, sessionId]);
}

/**
 * A new sign-in replaced `replaced` in the same browser. The same user is still signed in, so the token Sessions
 * tied to the old sign-in (online_access) move to the new one; another user's end, as at logout.
 */
export async function handOverBrowserSession(services: AuthServices, replaced: BrowserSession, session: BrowserSession): Promise<void> {
  if (replaced.userId !== session.userId) return endTokensOfBrowserSession(services, replaced.sid);
  await services.sessions.db.query('update browser_session_token set sid = $2 where sid = $1', [replaced.sid, session.sid]);
}

/** Logout: ends every token Session issued in the browser session. */
export async function endTokensOfBrowserSession(services: AuthServices, sid: string): Promise<void> {
  const rows = await services.sessions.db.query<{ session_id: string }>(
    'delete from browser_session_token where sid = $1 returning session_id',
    [sid],
  );
  for (const row of rows) await services.sessions.end(row.session_id);
}
