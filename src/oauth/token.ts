// POST /auth/token (RFC 6749 §3.2): the grant type, then the client, then the grant's own checks.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthServices } from '../authn/services.ts';
import type { ClientAuthenticator } from './client-auth.ts';
import { invalidRequest, unauthorizedClient, unsupportedGrantType } from './errors.ts';
import { authorizationCode } from './grants/authorization-code.ts';
import { clientCredentials } from './grants/client-credentials.ts';
import type { GrantType } from './grants/grant.ts';
import { password } from './grants/password.ts';
import { refreshToken } from './grants/refresh-token.ts';
import { readParams } from './params.ts';
import { tokensIssued } from '../observe/metrics.ts';

export const GRANTS: ReadonlyMap<string, GrantType> = new Map([authorizationCode, clientCredentials, password, refreshToken].map((grant) => [grant.type, grant]));

/** RFC 6749 §5.1: token responses, and errors, are never cached. */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

export function tokenHandler(services: AuthServices, clients: ClientAuthenticator, issuer: string) {
  return async function token(request: FastifyRequest, reply: FastifyReply) {
    const params = readParams(request.body);
    const grantType = params.grant_type;
    if (grantType === undefined) throw invalidRequest('Missing required parameter "grant_type"');
    const grant = GRANTS.get(grantType);
    if (!grant) {
      throw unsupportedGrantType(`Unsupported grant_type "${grantType.slice(0, 80)}": use ${[...GRANTS.keys()].join(', ')}`);
    }
    // Each grant says whether a client may present its id alone for it.
    const { client, method } = await clients.authenticate(request, params, grant.mayAuthenticateWithIdOnly);
    if (!grant.clientMayUse(client)) {
      throw unauthorizedClient(`Client "${client.id}" may not use the ${grant.type} grant: add it to the Client's grant_types`);
    }
    const response = await grant.handle({ services, issuer, client, authMethod: method, params, request });
    tokensIssued.inc({ grant: grant.type });
    return reply.code(200).headers(NO_STORE).send(response);
  };
}
