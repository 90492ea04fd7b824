// RFC 6749 §6: the refresh_token grant, with rotation: every use gives a new refresh token and spends the old
// one; an old one used again is taken as stolen and ends the whole session (RFC 9700 §4.14.2).
import type { FastifyRequest } from 'fastify';
import type { AuthServices } from '../../authn/services.ts';
import { invalidGrant, unauthorizedClient } from '../errors.ts';
import { clientGrantTypes, grantSettings } from '../grant-settings.ts';
import { required, type Params } from '../params.ts';
import { refreshAccess } from '../refresh-access.ts';
import { narrowedScope } from '../scope.ts';
import { issueInSession, type Grant } from '../token-response.ts';
import { seconds } from '../../tokens/access-token.ts';
import { GuessThrottle } from '../guesses.ts';
import type { GrantHandler, GrantRequest, GrantType } from './grant.ts';
import { isPublicClient } from '../authorize/check-pkce.ts';

const INVALID = 'The refresh token is invalid, expired, revoked or issued to another client';
/** No stored Client can have this id (ids cannot hold "/"). */
const UNNAMED_CLIENT = '/unnamed';

/**
 * RFC 6749 §6: a public client refreshes with `grant_type` and `refresh_token` alone (fhirclient does). The token
 * names the client it was issued to, which then passes client authentication as any other request: a public one
 * by its id, a confidential one only with its credentials. A request that identifies a client is left as it is.
 */
export async function withClientOfRefreshToken(services: AuthServices, request: FastifyRequest, params: Params): Promise<Params> {
  const identifiesClient =
    request.headers.authorization !== undefined ||
    ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'].some((name) => params[name] !== undefined);
  const token = params.refresh_token;
  if (identifiesClient || token === undefined) return params;
  // Guesses without a client count as an unnamed client's, at their address (src/oauth/guesses.ts).
  const guesses = new GuessThrottle(services.secrets.throttle, 'refresh_token', UNNAMED_CLIENT, request.ip);
  const owner = await guesses.redeem(async () => {
    const found = await services.refreshTokens.owner(token);
    if (!found) throw invalidGrant(INVALID);
    return found;
  });
  return { ...params, client_id: owner.clientId };
}

// A failed refresh counts as a guess of the client at its address (src/oauth/guesses.ts).
export const refreshTokenGrant: GrantHandler = (grant) =>
  new GuessThrottle(grant.services.secrets.throttle, 'refresh_token', grant.client.id, grant.request.ip).redeem(() => refresh(grant));

async function refresh({ services, client, params }: GrantRequest) {
  const token = required(params, 'refresh_token');
  // Checked before the token is spent, so a request with a bad scope does not burn the client's token.
  const unspent = await services.refreshTokens.peek(token);
  const scope = unspent && unspent.clientId === client.id ? narrowedScope(unspent.claims.scope, params.scope) : undefined;
  const use = await services.refreshTokens.use(token, client.id);
  if (use.outcome === 'reused') {
    await services.sessions.end(use.sessionId);
    throw invalidGrant('The refresh token was already used; its session has been ended');
  }
  if (use.outcome === 'invalid') throw invalidGrant(INVALID);
  const { claims } = use;
  const live = await services.sessions.live(use.sessionId, client.id, claims.sub, seconds(services.clock));
  if (!live) throw invalidGrant('The session of this refresh token has ended');
  // Asked again at every use: a Client whose refresh permission was taken away stops refreshing at once.
  if (!clientGrantTypes(client).includes(claims.grant) || refreshAccess(client, claims.grant, claims.scope) === null) {
    throw unauthorizedClient(`The client may no longer refresh tokens of its "${claims.grant}" grant`);
  }
  const settings = { ...grantSettings(client, claims.grant), refreshToken: true };
  return issueInSession(
    services,
    {
      grant: claims.grant,
      client,
      ...(live.user && { user: live.user }),
      audience: claims.aud,
      scope,
      refreshScope: claims.scope,
      settings,
      // SMART: a refreshed token keeps its session's launch context (patient, encounter, ...).
      launch: live.session.launch as Grant['launch'],
    },
    use.sessionId,
    use.expiresAt,
  );
}

/**
 * RFC 6749 §6: SMART public apps (no secret) refresh as they exchanged their code, by client id with rotation;
 * Aidbox clients follow their password grant's `secret_required`. Whether the client may refresh at all is the
 * grant's own check (refresh-access.ts), made against the token's grant.
 */
export const refreshToken: GrantType = {
  type: 'refresh_token',
  mayAuthenticateWithIdOnly: (client) => isPublicClient(client) || !grantSettings(client, 'password').secretRequired,
  clientMayUse: () => true,
  identifyClient: withClientOfRefreshToken,
  handle: refreshTokenGrant,
};
