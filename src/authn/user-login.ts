// A User proving who they are on the login page: by id or email, and password. An unknown user, an inactive
// one, one without a password and a wrong password all take the same time and give the same answer; failures
// are throttled per login and per address by the same counters as the token endpoint's (throws Throttled).
import type { Database } from '../store/database.ts';
import type { Resource } from '../store/resource-store.ts';
import type { SecretChecker } from './secret-check.ts';

async function findUser(db: Database, login: string): Promise<Resource | null> {
  // An exact id wins over an email, so a user cannot take over another's id by choosing it as their email.
  const [row] = await db.query<{ resource: string }>(
    `select resource::text as resource from resource
     where type = 'User' and not deleted and (id = $1 or lower(resource->>'email') = lower($1))
     order by (id = $1) desc, id limit 1`,
    [login],
  );
  return row ? (JSON.parse(row.resource) as Resource) : null;
}

export async function verifyUserLogin(
  db: Database,
  secrets: SecretChecker,
  attempt: { login: string; password: string; address: string },
): Promise<Resource | null> {
  const { login, password, address } = attempt;
  const found = login.length > 0 && login.length <= 320 ? await findUser(db, login) : null;
  // An inactive user is checked like an unknown one: same work, same answer.
  return (await secrets.verifyUserPassword(found, login, password, address)) ? found : null;
}

/** The User a session belongs to, if it still exists and is active. */
export async function loadActiveUser(db: Database, userId: string): Promise<Resource | null> {
  const [row] = await db.query<{ resource: string }>(
    `select resource::text as resource from resource where type = 'User' and id = $1 and not deleted`,
    [userId],
  );
  const user = row ? (JSON.parse(row.resource) as Resource) : null;
  return user && user.active !== false ? user : null;
}

/** How pages name a user: their name from User.data, else email, else id. */
export function displayName(user: Resource): string {
  const data = (user.data ?? {}) as Record<string, unknown>;
  const name = [data.given_name, data.family_name].filter((part) => typeof part === 'string').join(' ');
  if (typeof data.name === 'string' && data.name) return data.name;
  if (name) return name;
  return typeof user.email === 'string' ? user.email : user.id;
}
