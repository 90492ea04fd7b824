// User: a person who logs in. The password is stored only as a hash.
import { compileResourceSchema } from './schema.ts';
import { storableSecretField } from './password-hash.ts';
import type { Database } from '../store/database.ts';
import type { Resource } from '../store/resource-store.ts';
import { isSealed, seal } from './sealed-secret.ts';

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
    twoFactor: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        secretKey: { type: 'string', minLength: 16 },
        transport: { type: 'string' },
        recoveryCodes: { type: 'array', items: { type: 'string' } },
      },
    },
  },
});

/** Seals a TOTP key written in clear, so the API never returns it readable. */
async function sealTwoFactorKey(user: Resource, db: Database | undefined): Promise<Resource> {
  const twoFactor = user.twoFactor as { secretKey?: unknown } | undefined;
  if (typeof twoFactor?.secretKey !== 'string' || isSealed(twoFactor.secretKey)) return user;
  if (!db) throw new Error('sealing a two-factor key needs the database');
  return { ...user, twoFactor: { ...twoFactor, secretKey: await seal(db, twoFactor.secretKey) } };
}

export async function prepareUser(resource: Resource, db?: Database): Promise<Resource> {
  validateUser(resource);
  // A TOTP key given in clear (an administrator provisioning an authenticator) is sealed like the one enrolment makes.
  const user = await sealTwoFactorKey(resource, db);
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
