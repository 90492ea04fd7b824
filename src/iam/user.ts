// User: a person who logs in. The password is stored only as a hash.
import { compileResourceSchema } from './schema.ts';
import { storableSecretField } from './password-hash.ts';
import type { Queryable } from '../store/database.ts';
import type { Resource } from '../store/resource-store.ts';

// Users carry many optional profile fields (SCIM-like, as in Aidbox); only the ones Warden acts on are checked.
const validateUser = compileResourceSchema({
  type: 'object',
  properties: {
    resourceType: { const: 'User' },
    id: { type: 'string' },
    password: { type: 'string', minLength: 1 },
    email: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$' },
    userName: { type: 'string' },
    active: { type: 'boolean' },
    data: { type: 'object' },
    roles: { type: 'array', items: { type: 'object' } },
    fhirUser: { type: 'object', properties: { reference: { type: 'string' } } },
  },
});

export async function prepareUser(user: Resource): Promise<Resource> {
  validateUser(user);
  if (typeof user.password !== 'string') return user;
  return { ...user, password: await storableSecretField(user.password, 'User.password') };
}

/** The FHIR resource a User stands for (`User.fhirUser` as `{resourceType, id}` or `{reference}`), if any. */
export function fhirUserReference(user: Record<string, unknown>): string | undefined {
  const value = user.fhirUser as { resourceType?: unknown; id?: unknown; reference?: unknown } | undefined;
  if (!value || typeof value !== 'object') return undefined;
  if (typeof value.reference === 'string') return value.reference;
  if (typeof value.resourceType === 'string' && typeof value.id === 'string') return `${value.resourceType}/${value.id}`;
  return undefined;
}

/** The Patient id of a patient user (one whose fhirUser is a Patient): their own record. */
export function ownPatientOf(user: Record<string, unknown>): string | undefined {
  const reference = fhirUserReference(user);
  return reference?.startsWith('Patient/') ? reference.slice('Patient/'.length) : undefined;
}

/** OpenID Connect with SMART's `fhirUser` scope: the id_token names the user's FHIR resource by absolute URL. */
export function fhirUserClaim(user: Record<string, unknown>, scope: string | undefined, baseUrl: string): Record<string, unknown> {
  const scopes = (scope ?? '').split(' ');
  const reference = fhirUserReference(user);
  if (!scopes.includes('fhirUser') || !reference) return {};
  return { fhirUser: `${baseUrl}/${reference}` };
}

/**
 * The one rule for "who is this login", used by the login page, the password grant and so by their throttling:
 * the User whose id it is exactly, else the one User whose userName or email it is, letter case aside (as Aidbox
 * accepts). An exact id wins, so nobody takes over another's id by choosing it as their email; a name two Users
 * share names neither.
 */
export async function findUserByLogin(db: Queryable, login: string): Promise<Resource | null> {
  if (login.length === 0 || login.length > 320) return null;
  const rows = await db.query<{ resource: string; by_id: boolean }>(
    `select resource::text as resource, id = $1 as by_id from resource
     where type = 'User' and not deleted
       and (id = $1 or lower(resource->>'userName') = lower($1) or lower(resource->>'email') = lower($1))
     order by by_id desc, id limit 2`,
    [login],
  );
  if (rows.length === 0 || (rows.length === 2 && !rows[0].by_id)) return null;
  return JSON.parse(rows[0].resource) as Resource;
}
