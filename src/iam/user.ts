// User: a person who logs in. The password is stored only as a hash.
import { compileResourceSchema } from './schema.ts';
import { storableSecretField } from './password-hash.ts';
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
