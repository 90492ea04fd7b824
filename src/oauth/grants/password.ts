// RFC 6749 §4.3: the resource owner password credentials grant, for a User with a password. Off unless the
// Client lists "password" in grant_types. An unknown user and a wrong password fail alike.
import { hasTwoFactor } from '../../authn/two-factor.ts';
import { findUserByLogin } from '../../iam/user-logins.ts';
import { invalidGrant, invalidRequest } from '../errors.ts';
import { clientGrantTypes, grantSettings, tokenAudience } from '../grant-settings.ts';
import { required } from '../params.ts';
import { grantedScope } from '../scope.ts';
import { startSession } from '../token-response.ts';
import { tokenResponseUserinfo } from '../userinfo.ts';
import type { GrantHandler, GrantType } from './grant.ts';

export const passwordGrant: GrantHandler = async ({ services, issuer, client, params, request }) => {
  const login = required(params, 'username');
  const password = required(params, 'password');
  const settings = grantSettings(client, 'password');
  const audience = tokenAudience(settings, params.audience, issuer, invalidRequest);
  const scope = grantedScope(client, params.scope);
  // A username is the User's id, or its userName or email (as Aidbox accepts).
  const user = await findUserByLogin(services.sessions.db, login);
  const ok = await services.secrets.verifyUserPassword(user, login, password, request.ip);
  if (!ok || !user) throw invalidGrant('Invalid username or password');
  // The grant has no place for the second factor: a password alone must not be enough for this user.
  if (hasTwoFactor(user)) throw invalidGrant('This user signs in with two-factor authentication; use the authorization code flow');
  const response = await startSession(services, { grant: 'password', client, user, audience, scope, settings });
  return { ...response, userinfo: tokenResponseUserinfo(user) };
};

/** A client without a secret may use the password grant when its settings say so (`secret_required: false`). */
export const password: GrantType = {
  type: 'password',
  mayAuthenticateWithIdOnly: (client) => !grantSettings(client, 'password').secretRequired,
  clientMayUse: (client) => clientGrantTypes(client).includes('password'),
  handle: passwordGrant,
};
