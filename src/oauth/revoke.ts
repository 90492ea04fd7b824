// POST /auth/revoke (RFC 7009): the client revokes one of its tokens, and with it the whole session (§2.1:
// revoking a refresh token also ends the access tokens of its grant; we do it for access tokens too).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthServices } from '../authn/services.ts';
import type { ClientAuthenticator } from './client-auth.ts';
import { unauthorizedClient } from './errors.ts';
import { readParams, required } from './params.ts';
import { auditRevocation } from '../audit/iam-events.ts';

export function revokeHandler(services: AuthServices, clients: ClientAuthenticator) {
  async function owner(token: string): Promise<{ sessionId: string; clientId: string } | null> {
    const claims = await services.accessTokens.read(token);
    if (claims) return { sessionId: claims.sid, clientId: claims.client_id };
    return services.refreshTokens.owner(token);
  }

  return async function revoke(request: FastifyRequest, reply: FastifyReply) {
    const params = readParams(request.body);
    const { client } = await clients.authenticate(request, params);
    const token = required(params, 'token');
    const found = await owner(token);
    // §2.2: an invalid or unknown token is answered 200 like a revoked one; the hint is only an optimisation.
    if (found) {
      if (found.clientId !== client.id) throw unauthorizedClient('The token was not issued to this client');
      await services.sessions.end(found.sessionId);
      auditRevocation({ clientId: client.id, sessionId: found.sessionId }, params.token_type_hint ?? 'token');
    }
    return reply.code(200).header('cache-control', 'no-store').send();
  };
}
