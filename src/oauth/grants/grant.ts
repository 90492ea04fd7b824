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
