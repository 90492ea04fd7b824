// What every grant handler receives and returns.
import type { FastifyRequest } from 'fastify';
import type { ExternalTokens } from '../../authn/external/external-tokens.ts';
import type { AuthServices } from '../../authn/services.ts';
import type { Resource } from '../../store/resource-store.ts';
import type { ClientAuthMethod } from '../client-auth.ts';
import type { Params } from '../params.ts';
import type { TokenResponse } from '../token-response.ts';

export interface GrantRequest {
  services: AuthServices;
  /** This server's base URL: the issuer and the default audience. */
  issuer: string;
  client: Resource;
  authMethod: ClientAuthMethod;
  params: Params;
  request: FastifyRequest;
  /** Verifies tokens of other issuers (TokenIntrospectors): the subject tokens of a token exchange. */
  subjectTokens: ExternalTokens;
}

export type GrantHandler = (grant: GrantRequest) => Promise<TokenResponse>;

/** A grant type of the token endpoint, with its own rules about the client (as fosite's CanSkipClientAuth). */
export interface GrantType {
  type: string;
  /** Whether this client may present its id alone, without a credential, for this grant. */
  mayAuthenticateWithIdOnly(client: Resource): boolean;
  /** Whether the client is registered for this grant; the answer is unauthorized_client when not. */
  clientMayUse(client: Resource): boolean;
  /** Names the client when the request does not, before client authentication (the refresh_token grant's public clients). */
  identifyClient?(services: AuthServices, request: FastifyRequest, params: Params): Promise<Params>;
  handle: GrantHandler;
}
