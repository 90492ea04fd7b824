// A User proving who they are on the login page: by id, email or userName, and password. An unknown user, an
// inactive one, one without a password and a wrong password all take the same time and give the same answer;
// failures are throttled per User and per address by the same counters as the token endpoint's (throws Throttled).
import type { Database } from '../store/database.ts';
import type { Resource } from '../store/resource-store.ts';
import { findUserByLogin } from '../iam/user-logins.ts';
import { userModel } from '../iam/user-model.ts';
import type { SecretChecker } from './secret-check.ts';

export async function verifyUserLogin(
  db: Database,
  secrets: SecretChecker,
  attempt: { login: string; password: string; address: string },
): Promise<Resource | null> {
  const { login, password, address } = attempt;
  const found = await findUserByLogin(db, login);
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
  return user && userModel(user).active ? user : null;
}

/** How pages name a user: their name from User.data, else email, else id. */
export function displayName(user: Resource): string {
  return userModel(user).displayName;
}
