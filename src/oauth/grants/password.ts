// RFC 6749 §4.3: the resource owner password credentials grant, for a User with a password. Off unless the
// Client lists "password" in grant_types. An unknown user and a wrong password fail alike.
import type { Resource } from '../../store/resource-store.ts';
import type { Database } from '../../store/database.ts';
import { invalidGrant, invalidRequest } from '../errors.ts';
import { grantSettings, tokenAudience } from '../grant-settings.ts';
import { required } from '../params.ts';
import { grantedScope } from '../scope.ts';
import { startSession } from '../token-response.ts';
import type { GrantHandler } from './grant.ts';

/** A username is the User's id, or its userName or email (as Aidbox accepts). */
async function findUser(db: Database, login: string): Promise<Resource | null> {
  const rows = await db.query<{ resource: string; by_id: boolean }>(
    `select resource::text as resource, id = $1 as by_id from resource
     where type = 'User' and not deleted and (id = $1 or resource->>'userName' = $1 or resource->>'email' = $1)
     order by by_id desc limit 2`,
    [login],
  );
  // An email shared by two users names neither.
  if (rows.length === 0 || (rows.length === 2 && !rows[0].by_id)) return null;
  return JSON.parse(rows[0].resource) as Resource;
}

export const passwordGrant: GrantHandler = async ({ services, issuer, client, params, request }) => {
  const login = required(params, 'username');
  const password = required(params, 'password');
  const settings = grantSettings(client, 'password');
  const audience = tokenAudience(settings, params.audience, issuer, invalidRequest);
  const scope = grantedScope(client, params.scope);
  const user = await findUser(services.sessions.db, login);
  const ok = await services.secrets.verifyUserPassword(user, login, password, request.ip);
  if (!ok || !user) throw invalidGrant('Invalid username or password');
  return startSession(services, { grant: 'password', client, user, audience, scope, settings });
};
