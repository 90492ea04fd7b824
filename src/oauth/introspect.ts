// POST /auth/introspect (RFC 7662): an authenticated client asks about a token issued to it or for it.
// Anything else, however it fails, is exactly {"active": false} (§2.2), so the answer reveals nothing.
// SMART App Launch 2.x (Token Introspection): an active token's answer also carries the launch context its token
// response had (patient, encounter, fhirContext) and, with the fhirUser scope, the user's fhirUser.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthServices } from '../authn/services.ts';
import { fhirUserClaim } from '../iam/user.ts';
import { launchContextFields, type LaunchContext } from '../smart/launch-contexts.ts';
import type { LiveSession } from '../tokens/session.ts';
import type { AccessClaims } from '../tokens/access-token.ts';
import { looksLikeJwt, wasIssued } from '../tokens/opaque.ts';
import { seconds } from '../tokens/access-token.ts';
import type { ClientAuthenticator } from './client-auth.ts';
import { GuessThrottle } from './guesses.ts';
import { required, readParams } from './params.ts';
import { NO_STORE } from './reply.ts';
import { auditIntrospection } from '../audit/iam-events.ts';

const INACTIVE = { active: false } as const;

function audiences(aud: unknown): string[] {
  return Array.isArray(aud) ? aud.map(String) : typeof aud === 'string' ? [aud] : [];
}

/** The SMART context of a live session, as its token response gave it. */
function smartContext(live: LiveSession, scope: string | undefined, issuer: string): Record<string, unknown> {
  return { ...launchContextFields(live.session.launch as LaunchContext | undefined), ...(live.user && fhirUserClaim(live.user, scope, issuer)) };
}

export function introspectHandler(services: AuthServices, clients: ClientAuthenticator, issuer: string) {
  /** The caller may see a token issued to it, or one naming it in its audience (a resource server). */
  const mayInspect = (callerId: string, clientId: string, aud: unknown) => callerId === clientId || audiences(aud).includes(callerId);

  async function accessToken(token: string, callerId: string) {
    const claims: AccessClaims | null = await services.accessTokens.read(token);
    if (!claims || !mayInspect(callerId, claims.client_id, claims.aud)) return null;
    const live = await services.sessions.live(claims.sid, claims.client_id, claims.sub, seconds(services.clock));
    if (!live) return null;
    const { iss, sub, aud, exp, iat, jti, client_id, sid, scope } = claims;
    if (callerId !== client_id) auditIntrospection(callerId, client_id, true);
    return { active: true, token_type: 'bearer', iss, sub, aud, exp, iat, jti, client_id, sid, ...(scope && { scope }), ...smartContext(live, scope, issuer) };
  }

  async function refreshToken(token: string, callerId: string) {
    const found = await services.refreshTokens.peek(token);
    if (!found || found.clientId !== callerId) return null;
    const { claims } = found;
    const live = await services.sessions.live(found.sessionId, found.clientId, claims.sub, seconds(services.clock));
    if (!live) return null;
    return {
      active: true,
      token_type: 'refresh_token',
      iss: issuer,
      sub: claims.sub,
      aud: claims.aud,
      exp: found.expiresAt,
      client_id: found.clientId,
      sid: found.sessionId,
      ...(claims.scope && { scope: claims.scope }),
      ...smartContext(live, claims.scope, issuer),
    };
  }

  return async function introspect(request: FastifyRequest, reply: FastifyReply) {
    const params = readParams(request.body);
    const { client } = await clients.authenticate(request, params);
    const token = required(params, 'token');
    const guesses = new GuessThrottle(services.secrets.throttle, 'introspect', client.id, request.ip);
    await guesses.check();
    // The hint only orders the lookups (§2.1); both kinds are tried.
    const answer = looksLikeJwt(token)
      ? await accessToken(token, client.id)
      : params.token_type_hint === 'refresh_token'
        ? ((await refreshToken(token, client.id)) ?? (await accessToken(token, client.id)))
        : ((await accessToken(token, client.id)) ?? (await refreshToken(token, client.id)));
    // An opaque token Warden never issued is a guess; an expired or spent one is a resource server's daily bread.
    if (!answer && !looksLikeJwt(token) && !(await wasIssued(services.sessions.db, token))) await guesses.failed();
    return reply.code(200).headers(NO_STORE).send(answer ?? INACTIVE);
  };
}
