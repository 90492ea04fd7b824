// The names a User signs in with besides their id (email, userName), in canonical form (login-name.ts), each
// held by one User: two accounts whose emails differ only by case or Unicode form would otherwise coexist,
// and which of them a login meant would be up to the database's order. Kept in `user_login`, written in the
// transaction that writes the User, so the primary key settles two concurrent writes of one name.
import { conflict } from '../fhir/outcome.ts';
import type { Database, Queryable } from '../store/database.ts';
import type { Resource } from '../store/resource-store.ts';
import { canonicalLogin } from './login-name.ts';

const LOGIN_FIELDS = ['email', 'userName'] as const;

/** Canonical login → the field that gave it, for the message when it is taken. */
function loginsOf(user: Resource): Map<string, string> {
  const logins = new Map<string, string>();
  for (const field of LOGIN_FIELDS) {
    const value = user[field];
    if (typeof value === 'string' && value !== '' && !logins.has(canonicalLogin(value))) logins.set(canonicalLogin(value), field);
  }
  return logins;
}

async function insertLogins(tx: Queryable, userId: string, logins: string[]): Promise<string[]> {
  const rows = await tx.query<{ login: string }>(
    `insert into user_login (login, user_id) select login, $2 from jsonb_array_elements_text($1::text::jsonb) as names (login)
     on conflict do nothing returning login`,
    [JSON.stringify(logins), userId],
  );
  return rows.map((row) => row.login);
}

/** Replaces the login names of `user` within the write's transaction: a name another User holds is a 409. */
export async function writeUserLogins(tx: Queryable, user: Resource, deleted: boolean): Promise<void> {
  await tx.query('delete from user_login where user_id = $1', [user.id]);
  const logins = deleted ? new Map<string, string>() : loginsOf(user);
  if (logins.size === 0) return;
  const inserted = new Set(await insertLogins(tx, user.id, [...logins.keys()]));
  for (const [login, field] of logins) {
    if (!inserted.has(login)) throw conflict(`User.${field} "${String(user[field])}" is already used by another User (names are compared regardless of case and Unicode form)`);
  }
}

/**
 * Indexes Users stored before `user_login` existed; run at start, by any number of processes at once. Of two
 * such Users with one name, the first keeps it: the other signs in by id until an administrator renames it.
 */
export async function indexUserLogins(db: Database): Promise<void> {
  const rows = await db.query<{ resource: string }>(
    `select resource::text as resource from resource r where type = 'User' and not deleted
       and (resource ? 'email' or resource ? 'userName') and not exists (select 1 from user_login l where l.user_id = r.id)`,
  );
  for (const row of rows) {
    const user = JSON.parse(row.resource) as Resource;
    await insertLogins(db, user.id, [...loginsOf(user).keys()]);
  }
}

/** The User a login names: the User with that id, else the one holding that email or userName. */
export async function findUserByLogin(db: Queryable, login: string): Promise<Resource | null> {
  if (login.length === 0 || login.length > 320) return null;
  const [row] = await db.query<{ resource: string }>(
    `select resource::text as resource from resource
     where type = 'User' and not deleted and (id = $1 or id = (select user_id from user_login where login = $2))
     order by (id = $1) desc limit 1`,
    [login, canonicalLogin(login)],
  );
  return row ? (JSON.parse(row.resource) as Resource) : null;
}
