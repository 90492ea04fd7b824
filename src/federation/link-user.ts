// The User a provider's sign-in stands for. Account linking rules (written out because a wrong one hands an
// account to a stranger):
//   1. A User whose `identifier` has {system: provider's system, value: sub} is that person: it is updated
//      with the new claims and signed in.
//   2. Otherwise, only when the provider has `isEmailUniqueness` AND says the email is verified
//      (`email_verified: true`), an existing User with that email is linked: the identifier is added.
//   3. Otherwise a new User is made. It gets the top-level `email` only when the email is verified and no other
//      User has it, so an unverified or colliding email can never make the login page's email lookup, or a
//      later link, reach someone else's account. The claims are kept in `data` either way.
// `toScim` then fills mapped fields, never the ones that decide who the user is or what they may do.
import { randomUUID } from 'node:crypto';
import { identifierSystemOf, PROTECTED_USER_FIELDS, type IdentityProvider } from '../iam/identity-provider.ts';
import { prepareUser } from '../iam/user.ts';
import { findUserByLogin } from '../iam/user-logins.ts';
import { userModel } from '../iam/user-model.ts';
import { FhirError } from '../fhir/outcome.ts';
import type { Database } from '../store/database.ts';
import { VersionConflict, type Resource, type ResourceStore } from '../store/resource-store.ts';

export type Claims = Record<string, unknown>;

/** The user's sign-in was fine but cannot be turned into an active Warden User (deactivated, or racing writes). */
export class LinkRefused extends Error {}

const EMAIL = /^[^@\s]+@[^@\s]+$/;
const MAX_ATTEMPTS = 5;

/** The User this provider's `sub` already stands for. */
async function byIdentifier(db: Database, system: string, value: string): Promise<Resource | null> {
  const [row] = await db.query<{ resource: string }>(
    `select resource::text as resource from resource where type = 'User' and not deleted
     and resource->'identifier' @> $1::text::jsonb order by id limit 1`,
    [JSON.stringify([{ system, value }])],
  );
  return row ? (JSON.parse(row.resource) as Resource) : null;
}

function verifiedEmail(claims: Claims): string | undefined {
  return claims.email_verified === true && typeof claims.email === 'string' && EMAIL.test(claims.email) ? claims.email : undefined;
}

function claimAt(claims: Claims, path: string[]): unknown {
  let value: unknown = claims;
  for (const name of path) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[name] : undefined;
  return value;
}

/** The User fields `toScim` maps from the claims; a claim that is absent leaves its field alone. */
function mapped(mapping: Record<string, unknown>, claims: Claims): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, source] of Object.entries(mapping)) {
    const value = Array.isArray(source) ? claimAt(claims, source as string[]) : mapped(source as Record<string, unknown>, claims);
    if (value !== undefined && !(typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0)) out[field] = value;
  }
  return out;
}

function withClaims(user: Resource, provider: IdentityProvider, claims: Claims, emailFree: boolean): Resource {
  const fields = mapped(provider.toScim ?? {}, claims);
  for (const field of PROTECTED_USER_FIELDS) delete fields[field];
  // An email from the mapping obeys the same rule as the claim: verified, and nobody else's.
  delete fields.email;
  const email = verifiedEmail(claims);
  // The claims are kept in `data`, and a mapping into `data` (toScim.data.department) is laid over them.
  const mappedData = fields.data && typeof fields.data === 'object' && !Array.isArray(fields.data) ? (fields.data as object) : {};
  return {
    ...user,
    ...fields,
    ...(email && emailFree && { email }),
    data: { ...((user.data as object) ?? {}), ...claims, ...mappedData },
  };
}

export async function userForSignIn(db: Database, resources: ResourceStore, provider: IdentityProvider, claims: Claims): Promise<Resource> {
  const system = identifierSystemOf(provider);
  const sub = String(claims.sub);
  const identifier = { system, value: sub };
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const email = verifiedEmail(claims);
    // The holder is found as the login page finds a user by email (case and Unicode form folded).
    const holder = email ? await findUserByLogin(db, email) : null;
    const linked = await byIdentifier(db, system, sub);
    const linking = !linked && holder && provider.isEmailUniqueness === true ? holder : null;
    const found = linked ?? linking;
    // Read through the store, so the write below is conditional on exactly the version the claims are merged into.
    const current = found ? await resources.read('User', found.id) : null;
    let user = current && !current.deleted ? current.resource : null;
    if (user && linking) user = { ...user, identifier: [...((user.identifier as unknown[]) ?? []), identifier] };
    if (user && !userModel(user).active) throw new LinkRefused(`User ${user.id} is deactivated`);
    const next = user
      ? withClaims(user, provider, claims, !holder || holder.id === user.id)
      : withClaims({ resourceType: 'User', id: randomUUID(), identifier: [identifier] }, provider, claims, !holder);
    try {
      return (await resources.write(await prepareUser(next), user && current ? current.versionId : null)).resource;
    } catch (error) {
      // A userName (or email) mapped from the claims that another User holds.
      if (error instanceof FhirError && error.status === 409) throw new LinkRefused(error.message);
      if (!(error instanceof VersionConflict)) throw error;
      // Another sign-in of the same person, or an administrator, wrote the User meanwhile: read again.
    }
  }
  throw new LinkRefused('the User kept changing while signing in');
}
