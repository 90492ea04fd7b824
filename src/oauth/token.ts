// POST /auth/token (RFC 6749 §3.2): the grant type, then the client, then the grant's own checks.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { stringify as stringifyYaml } from 'yaml';
import type { ExternalTokens } from '../authn/external/external-tokens.ts';
import type { AuthServices } from '../authn/services.ts';
import { wantsYaml } from '../http/reply-format.ts';
import type { ClientAuthenticator } from './client-auth.ts';
import { invalidRequest, unauthorizedClient, unsupportedGrantType } from './errors.ts';
import { clientGrantTypes, grantSettings, TOKEN_EXCHANGE } from './grant-settings.ts';
import { isPublicClient } from './authorize/check-pkce.ts';
import { allowsResponseType } from './authorize/check-response-type.ts';
import { authorizationCodeGrant } from './grants/authorization-code.ts';
import { clientCredentialsGrant } from './grants/client-credentials.ts';
import type { GrantHandler } from './grants/grant.ts';
import { passwordGrant } from './grants/password.ts';
import { refreshTokenGrant, withClientOfRefreshToken } from './grants/refresh-token.ts';
import { tokenExchangeGrant } from './grants/token-exchange.ts';
import { readParams } from './params.ts';
import { tokensIssued } from '../observe/metrics.ts';

export const GRANTS: Record<string, GrantHandler> = {
  authorization_code: authorizationCodeGrant,
  client_credentials: clientCredentialsGrant,
  password: passwordGrant,
  refresh_token: refreshTokenGrant,
  [TOKEN_EXCHANGE]: tokenExchangeGrant,
};

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
    const handler = Object.hasOwn(GRANTS, grantType) ? GRANTS[grantType] : undefined;
    if (!handler) {
      throw unsupportedGrantType(`Unsupported grant_type "${grantType.slice(0, 80)}": use ${Object.keys(GRANTS).join(', ')}`);
    }
    const params = grantType === 'refresh_token' ? await withClientOfRefreshToken(services, request, body) : body;
    // A client without a secret may use the password and refresh grants when its settings say so
    // (`secret_required: false`); client_credentials always needs a credential.
    // A public client (no secret) exchanges its code with PKCE alone; a confidential one must authenticate.
    const { client, method } = await clients.authenticate(request, params, (candidate) =>
      grantType === 'authorization_code'
        ? isPublicClient(candidate) || !grantSettings(candidate, grantType).secretRequired
        : // SMART public apps (no secret) refresh as they exchanged their code: by client id, with rotation.
          (grantType === 'refresh_token' && isPublicClient(candidate)) ||
          (grantType !== 'client_credentials' && !grantSettings(candidate, grantType === 'refresh_token' ? 'password' : grantType).secretRequired),
    );
    if (grantType === 'authorization_code' && !allowsResponseType(client, 'code')) {
      throw unauthorizedClient(`Client "${client.id}" may not use the authorization_code grant: add it to the Client's grant_types`);
    }
    if (grantType !== 'refresh_token' && grantType !== 'authorization_code' && !clientGrantTypes(client).includes(grantType)) {
      throw unauthorizedClient(`Client "${client.id}" may not use the ${grantType} grant: add it to the Client's grant_types`);
    }
    const response = await handler({ services, issuer, client, authMethod: method, params, request, subjectTokens });
    tokensIssued.inc({ grant: grantType });
    return sendTokenBody(request, reply, 200, response);
  };
}
