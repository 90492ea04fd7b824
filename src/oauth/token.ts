// POST /auth/token (RFC 6749 §3.2): the grant type, then the client, then the grant's own checks.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { stringify as stringifyYaml } from 'yaml';
import type { ExternalTokens } from '../authn/external/external-tokens.ts';
import type { AuthServices } from '../authn/services.ts';
import { wantsYaml } from '../http/reply-format.ts';
import type { ClientAuthenticator } from './client-auth.ts';
import { invalidRequest, unauthorizedClient, unsupportedGrantType } from './errors.ts';
import { authorizationCode } from './grants/authorization-code.ts';
import { clientCredentials } from './grants/client-credentials.ts';
import type { GrantType } from './grants/grant.ts';
import { password } from './grants/password.ts';
import { refreshToken } from './grants/refresh-token.ts';
import { tokenExchange } from './grants/token-exchange.ts';
import { readParams } from './params.ts';
import { tokensIssued } from '../observe/metrics.ts';
import { auditTokenIssued } from '../audit/iam-events.ts';

export const GRANTS: ReadonlyMap<string, GrantType> = new Map(
  [authorizationCode, clientCredentials, password, refreshToken, tokenExchange].map((grant) => [grant.type, grant]),
);

/** RFC 6749 §5.1: token responses, and errors, are never cached. */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/**
 * A token endpoint answer, JSON (RFC 6749 §5.1) unless the caller asked for YAML, as the rest of the API and
 * Aidbox's token endpoint honour `Accept: text/yaml`. Never cached.
 */
export function sendTokenBody(request: FastifyRequest, reply: FastifyReply, status: number, body: object, headers: Record<string, string> = {}) {
  reply.code(status).headers({ ...NO_STORE, ...headers });
  if (wantsYaml(request)) return reply.type('text/yaml; charset=utf-8').send(stringifyYaml(body));
  return reply.send(body);
}

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
    const { client, method } = await clients.authenticate(request, params, grant.mayAuthenticateWithIdOnly);
    if (!grant.clientMayUse(client)) {
      throw unauthorizedClient(`Client "${client.id}" may not use the ${grant.type} grant: add it to the Client's grant_types`);
    }
    const response = await grant.handle({ services, issuer, client, authMethod: method, params, request, subjectTokens });
    tokensIssued.inc({ grant: grantType });
    auditTokenIssued(grantType, client.id, params, response);
    return sendTokenBody(request, reply, 200, response);
  };
}
