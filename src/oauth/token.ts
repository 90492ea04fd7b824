// POST /auth/token (RFC 6749 §3.2): the grant type, then the client, then the grant's own checks.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthServices } from '../authn/services.ts';
import type { ClientAuthenticator } from './client-auth.ts';
import { invalidRequest, unauthorizedClient, unsupportedGrantType } from './errors.ts';
import { clientGrantTypes, grantSettings } from './grant-settings.ts';
import { isPublicClient } from './authorize/check-pkce.ts';
import { allowsResponseType } from './authorize/check-response-type.ts';
import { authorizationCodeGrant } from './grants/authorization-code.ts';
import { clientCredentialsGrant } from './grants/client-credentials.ts';
import type { GrantHandler } from './grants/grant.ts';
import { passwordGrant } from './grants/password.ts';
import { refreshTokenGrant } from './grants/refresh-token.ts';
import { readParams } from './params.ts';
import { tokensIssued } from '../observe/metrics.ts';

export const GRANTS: Record<string, GrantHandler> = {
  authorization_code: authorizationCodeGrant,
  client_credentials: clientCredentialsGrant,
  password: passwordGrant,
  refresh_token: refreshTokenGrant,
};

/** RFC 6749 §5.1: token responses, and errors, are never cached. */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

export function tokenHandler(services: AuthServices, clients: ClientAuthenticator, issuer: string) {
  return async function token(request: FastifyRequest, reply: FastifyReply) {
    const params = readParams(request.body);
    const grantType = params.grant_type;
    if (grantType === undefined) throw invalidRequest('Missing required parameter "grant_type"');
    const handler = Object.hasOwn(GRANTS, grantType) ? GRANTS[grantType] : undefined;
    if (!handler) {
      throw unsupportedGrantType(`Unsupported grant_type "${grantType.slice(0, 80)}": use ${Object.keys(GRANTS).join(', ')}`);
    }
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
    const response = await handler({ services, issuer, client, authMethod: method, params, request });
    tokensIssued.inc({ grant: grantType });
    return reply.code(200).headers(NO_STORE).send(response);
  };
}
