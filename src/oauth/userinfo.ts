// GET or POST /auth/userinfo (OpenID Connect Core §5.3): the claims of the user a Bearer token was issued for.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidToken } from '../errors.ts';
import { BEARER_CHALLENGE, bearerChallenge } from '../http/challenges.ts';
import type { AuthServices } from '../authn/services.ts';
import { invalidRequestChallenge, tokenMethodProblem } from '../authn/token-in-uri.ts';
import type { Resource } from '../store/resource-store.ts';
import { OAuthError } from './errors.ts';

/** OIDC Core §5.1 standard claims Warden may take from User (top level, or `data` as Aidbox suggests). */
export const USERINFO_CLAIMS = [
  'name', 'given_name', 'family_name', 'middle_name', 'nickname', 'preferred_username', 'profile', 'picture',
  'website', 'email', 'email_verified', 'gender', 'birthdate', 'zoneinfo', 'locale', 'phone_number',
];

function claimsOf(user: Resource): Record<string, unknown> {
  const data = (user.data && typeof user.data === 'object' ? user.data : {}) as Record<string, unknown>;
  const claims: Record<string, unknown> = { sub: user.id };
  for (const name of USERINFO_CLAIMS) {
    const value = data[name] ?? user[name];
    if (typeof value === 'string' || typeof value === 'boolean') claims[name] = value;
  }
  if (claims.preferred_username === undefined && typeof user.userName === 'string') claims.preferred_username = user.userName;
  return claims;
}

/**
 * Aidbox answers the password and authorization_code grants with `userinfo`: the User as stored, without its
 * password hash, with `sub` as in the OpenID claims.
 */
export function tokenResponseUserinfo(user: Resource): Record<string, unknown> {
  const { password: _hash, ...visible } = user;
  return { ...visible, sub: user.id };
}

export function userinfoHandler(services: AuthServices) {
  return async function userinfo(request: FastifyRequest, reply: FastifyReply) {
    const tokenProblem = tokenMethodProblem(request, 'query or body');
    if (tokenProblem) throw new OAuthError('invalid_request', tokenProblem, 400, invalidRequestChallenge(tokenProblem));
    const header = request.headers.authorization?.trim() ?? '';
    const match = /^bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new OAuthError('invalid_token', 'A Bearer access token is required', 401, { 'www-authenticate': BEARER_CHALLENGE });
    let identity;
    try {
      identity = await services.bearer.identify(match[1]);
    } catch (error) {
      if (!(error instanceof InvalidToken)) throw error;
      throw new OAuthError('invalid_token', error.message, 401, { 'www-authenticate': bearerChallenge('invalid_token', error.message) });
    }
    if (!identity.user) {
      const message = 'The access token was not issued for a user';
      throw new OAuthError('insufficient_scope', message, 403, { 'www-authenticate': bearerChallenge('insufficient_scope', message) });
    }
    return reply.code(200).header('cache-control', 'no-store').send(claimsOf(identity.user));
  };
}
