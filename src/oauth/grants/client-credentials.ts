// RFC 6749 §4.4: the client_credentials grant. The client acts on its own behalf; no user.
import { invalidRequest } from '../errors.ts';
import { clientGrantTypes, grantSettings, tokenAudience } from '../grant-settings.ts';
import { grantedScope, refuseUserContextScopes } from '../scope.ts';
import { startSession } from '../token-response.ts';
import type { GrantHandler, GrantType } from './grant.ts';

export const clientCredentialsGrant: GrantHandler = async ({ services, issuer, client, params }) => {
  const settings = grantSettings(client, 'client_credentials');
  const scope = grantedScope(client, params.scope);
  refuseUserContextScopes(scope);
  return startSession(services, {
    grant: 'client_credentials',
    client,
    audience: tokenAudience(settings, params.audience, issuer, invalidRequest),
    scope,
    settings,
  });
};

/** RFC 6749 §4.4: the client acts for itself, so it always proves who it is. */
export const clientCredentials: GrantType = {
  type: 'client_credentials',
  mayAuthenticateWithIdOnly: () => false,
  clientMayUse: (client) => clientGrantTypes(client).includes('client_credentials'),
  handle: clientCredentialsGrant,
};
