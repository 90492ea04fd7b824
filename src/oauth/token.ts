// POST /auth/token (RFC 6749 §3.2): the grant type, then the client, then the grant's own checks.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ExternalTokens } from '../authn/external/external-tokens.ts';
import type { AuthServices } from '../authn/services.ts';
import { clientModel } from '../iam/client-model.ts';
import type { ClientAuthenticator } from './client-auth.ts';
import { invalidRequest, unauthorizedClient, unsupportedGrantType } from './errors.ts';
import { authorizationCode } from './grants/authorization-code.ts';
import { clientCredentials } from './grants/client-credentials.ts';
import type { GrantType } from './grants/grant.ts';
import { password } from './grants/password.ts';
import { refreshToken } from './grants/refresh-token.ts';
import { tokenExchange } from './grants/token-exchange.ts';
import { readParams } from './params.ts';
import { sendTokenBody } from './reply.ts';
import { tokensIssued } from '../observe/metrics.ts';
import { auditTokenIssued } from '../audit/iam-events.ts';

export const GRANTS: ReadonlyMap<string, GrantType> = new Map(
  [authorizationCode, clientCredentials, password, refreshToken, tokenExchange].map((grant) => [grant.type, grant]),
);

export function tokenHandler(services: AuthServices, clients: ClientAuthenticator, issuer: string, subjectTokens: ExternalTokens) {
  return async function token(request: FastifyRequest, reply: FastifyReply) {
    const body = readParams(request.body);
    const grantType = body.grant_type;
    if (grantType === undefined) throw invalidRequest('Missing required parameter "grant_type"');
    const grant = GRANTS.get(grantType);
    if (!grant) {
      throw unsupportedGrantType(`Unsupported grant_type "${grantType.slice(0, 80)}": use ${[...GRANTS.keys()].join(', ')}`);
    }
    const params = grant.identifyClient ? await grant.identifyClient(services, request, body) : body;
    // Each grant says whether a client may present its id alone for it, and whether the client may use it.
    const { client, method } = await clients.authenticate(request, params, (candidate) => grant.mayAuthenticateWithIdOnly(clientModel(candidate)));
    if (!grant.clientMayUse(clientModel(client))) {
      throw unauthorizedClient(`Client "${client.id}" may not use the ${grant.type} grant: add it to the Client's grant_types`);
    }
    const response = await grant.handle({ services, issuer, client, authMethod: method, params, request, subjectTokens });
    tokensIssued.inc({ grant: grantType });
    auditTokenIssued(grantType, client.id, params, response);
    return sendTokenBody(request, reply, 200, response);
  };
}
