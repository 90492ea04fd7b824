// A User as Warden reads it: what a stored User's fields mean, in one place (as client-model.ts is for Clients),
// built once per resource object. Which User a login name means is one rule too: findUserByLogin in
// user-logins.ts, used by the login page, the password grant, their throttling and federation.
import type { Resource } from '../store/resource-store.ts';
import { fhirUserReference, ownPatientOf } from './user.ts';

export class User {
  readonly id: string;
  /** A deactivated User (`active: false`) cannot sign in, and its tokens stop working. */
  readonly active: boolean;
  /** The stored hash of the password (iam/user.ts hashes it when written); none for a User without one. */
  readonly passwordHash: string | undefined;
  /** The FHIR resource the User stands for (`fhirUser`), as "Type/id". */
  readonly fhirUser: string | undefined;
  /** A patient user's own Patient id. */
  readonly ownPatient: string | undefined;
  /** How pages name the User: their name from `data`, else email, else id. */
  readonly displayName: string;

  constructor(readonly resource: Resource) {
    this.id = resource.id;
    this.active = resource.active !== false;
    this.passwordHash = typeof resource.password === 'string' ? resource.password : undefined;
    this.fhirUser = fhirUserReference(resource);
    this.ownPatient = ownPatientOf(resource);
    const data = (resource.data ?? {}) as Record<string, unknown>;
    const name = [data.given_name, data.family_name].filter((part) => typeof part === 'string').join(' ');
    this.displayName =
      typeof data.name === 'string' && data.name ? data.name : name || (typeof resource.email === 'string' ? resource.email : resource.id);
  }
}

const built = new WeakMap<Resource, User>();

/** The model of a stored User, built once per resource object. */
export function userModel(resource: Resource): User {
  let user = built.get(resource);
  if (!user) built.set(resource, (user = new User(resource)));
  return user;
}
