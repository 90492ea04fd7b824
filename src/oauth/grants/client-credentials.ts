// RFC 6749 §4.4: the client_credentials grant. The client acts on its own behalf; no user.
import { invalidRequest } from '../errors.ts';
import { grantSettings, tokenAudience } from '../grant-settings.ts';
import { grantedScope, refuseUserContextScopes } from '../scope.ts';
import { startSession } from '../token-response.ts';
import type { GrantHandler } from './grant.ts';

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
