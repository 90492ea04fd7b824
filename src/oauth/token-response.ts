// The successful token response (RFC 6749 §5.1), the same for every grant: `token_type` is "bearer" as in Aidbox's
// documents (RFC 6749 §7.1: case-insensitive); an access token in the Client's
// format, a refresh token when the grant's settings ask for one, all in one Session.
import type { AuthServices } from '../authn/services.ts';
import { newResourceId } from '../fhir/ids.ts';
import { launchResponseFields, type LaunchContext } from '../smart/launch-contexts.ts';
import type { Resource } from '../store/resource-store.ts';
import { seconds } from '../tokens/access-token.ts';
import type { GrantSettings } from '../iam/client-model.ts';

export interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  /** SMART launch context: patient, encounter, need_patient_banner, smart_style_url, fhirContext. */
  [launchField: string]: unknown;
}

export interface Grant {
  /** The grant the session was started by (a refresh keeps its session's grant). */
  grant: string;
  client: Resource;
  user?: Resource;
  audience: string;
  scope?: string;
  /** A refresh token keeps the scope first granted even when this access token's is narrower (RFC 6749 §6). */
  refreshScope?: string;
  settings: GrantSettings;
  /** SMART launch context of the session, answered with every token issued in it. */
  launch?: LaunchContext;
}

/** Starts a session and issues its first tokens. */
export async function startSession(services: AuthServices, grant: Grant): Promise<TokenResponse> {
  const now = seconds(services.clock);
  const lifetime = grant.settings.refreshToken ? grant.settings.refreshTokenLifetime : grant.settings.accessTokenLifetime;
  const sessionId = newResourceId();
  // The tokens only name the session, so they are signed while it is written; none is answered before it is.
  const [, response] = await Promise.all([
    services.sessions.create({
      id: sessionId,
      grant: grant.grant,
      clientId: grant.client.id,
      ...(grant.user && { userId: grant.user.id }),
      audience: grant.audience,
      scope: grant.scope,
      expiresAt: now + lifetime,
      ...(grant.launch && { launch: { ...grant.launch } }),
    }),
    issueInSession(services, grant, sessionId, now + lifetime, now),
  ]);
  return response;
}

/**
 * Issues an access token (and a refresh token when enabled) in an existing session ending at `sessionEnd`.
 * `now` is the caller's when it computed `sessionEnd`, so a second ticking by in between costs no second of lifetime.
 */
export async function issueInSession(
  services: AuthServices,
  grant: Grant,
  sessionId: string,
  sessionEnd: number,
  now = seconds(services.clock),
): Promise<TokenResponse> {
  // No token outlives its session.
  const lifetime = Math.max(1, Math.min(grant.settings.accessTokenLifetime, sessionEnd - now));
  const { token } = await services.accessTokens.issue({
    format: grant.settings.format,
    lifetimeSeconds: lifetime,
    sessionId,
    clientId: grant.client.id,
    subject: grant.user?.id ?? grant.client.id,
    audience: grant.audience,
    scope: grant.scope,
  });
  const response: TokenResponse = {
    access_token: token,
    token_type: 'bearer',
    expires_in: lifetime,
    ...(grant.scope && { scope: grant.scope }),
    ...launchResponseFields(grant.launch),
  };
  if (grant.settings.refreshToken) {
    response.refresh_token = await services.refreshTokens.issue(
      sessionId,
      grant.client.id,
      { grant: grant.grant, sub: grant.user?.id ?? grant.client.id, ...(grant.user && { user_id: grant.user.id }), aud: grant.audience, scope: grant.refreshScope ?? grant.scope },
      sessionEnd,
    );
  }
  return response;
}
