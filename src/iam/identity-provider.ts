// IdentityProvider: another OpenID Connect / OAuth 2.0 server users may sign in with, in Aidbox's shape
// (`authorize_endpoint`, `token_endpoint`, `userinfo_endpoint`, `jwks_uri`, `client{id, secret, redirect_uri,
// auth-method}`, ...), or just its `issuer`, whose OpenID discovery document supplies the endpoints.
// The client secret must be usable to call the token endpoint, so it cannot be hashed: it is sealed
// (src/iam/sealed-secret.ts), and the API only ever returns the sealed form.
import { unprocessable } from '../fhir/outcome.ts';
import type { Database } from '../store/database.ts';
import type { Resource } from '../store/resource-store.ts';
import { checkOutboundUrl, type WriteSettings } from '../http/outbound-url.ts';
import { compileResourceSchema } from './schema.ts';
import { isSealed, seal } from './sealed-secret.ts';

export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const;

export interface IdentityProvider extends Resource {
  resourceType: 'IdentityProvider';
  type?: string;
  title?: string;
  active?: boolean;
  /** The `system` of the identifier a User signed in through this provider carries (its `sub` is the value). */
  system?: string;
  /** The provider's issuer identifier: id_tokens must carry it; without the endpoints, discovery starts from it. */
  issuer: string;
  authorize_endpoint?: string;
  token_endpoint?: string;
  userinfo_endpoint?: string;
  /** Where the user's claims come from: the id_token alone, or the userinfo endpoint too (the default when there is one). */
  'userinfo-source'?: 'id-token' | 'userinfo-endpoint';
  jwks_uri?: string;
  scopes?: string[];
  client: { id: string; secret?: string; redirect_uri?: string; 'auth-method'?: (typeof AUTH_METHODS)[number] };
  /** User fields filled from claims: `{email: [email], data: {department: [dept]}}`; each leaf is a claim path. */
  toScim?: Record<string, unknown>;
  /** Sign a provider's user in as the existing User with the same (provider-verified) email. */
  isEmailUniqueness?: boolean;
}

const url = { type: 'string', minLength: 1 };

const validateShape = compileResourceSchema({
  type: 'object',
  additionalProperties: false,
  required: ['client'],
  properties: {
    resourceType: { const: 'IdentityProvider' },
    id: { type: 'string' },
    meta: { type: 'object' },
    type: { type: 'string' },
    title: { type: 'string', minLength: 1, maxLength: 100 },
    active: { type: 'boolean' },
    system: { type: 'string', minLength: 1 },
    issuer: url,
    authorize_endpoint: url,
    token_endpoint: url,
    userinfo_endpoint: url,
    'userinfo-source': { enum: ['id-token', 'userinfo-endpoint'] },
    jwks_uri: url,
    scopes: { type: 'array', items: { type: 'string', pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' } },
    client: {
      type: 'object',
      additionalProperties: false,
      required: ['id'],
      properties: {
        id: { type: 'string', minLength: 1 },
        secret: { type: 'string', minLength: 1 },
        redirect_uri: { type: 'string', pattern: '^https?://' },
        'auth-method': { enum: AUTH_METHODS },
      },
    },
    toScim: { type: 'object' },
    isEmailUniqueness: { type: 'boolean' },
    description: { type: 'string' },
  },
});

const invalid = (field: string, message: string) =>
  unprocessable(`IdentityProvider.${field} ${message}`, [`IdentityProvider.${field}`]);

/** User fields a provider's claims may never set: who the user is, how they sign in, what they may do. */
export const PROTECTED_USER_FIELDS = ['id', 'resourceType', 'meta', 'password', 'twoFactor', 'identifier', 'active', 'roles', 'fhirUser'];

function checkMapping(mapping: Record<string, unknown>, path: string[]): void {
  for (const [field, value] of Object.entries(mapping)) {
    const at = [...path, field];
    if (path.length === 0 && PROTECTED_USER_FIELDS.includes(field)) throw invalid(`toScim.${field}`, 'cannot be set from claims');
    if (Array.isArray(value)) {
      if (value.length === 0 || !value.every((part) => typeof part === 'string' && part !== '')) {
        throw invalid(`toScim.${at.join('.')}`, 'must be a claim path: a list of claim names, e.g. [email]');
      }
    } else if (value && typeof value === 'object') {
      checkMapping(value as Record<string, unknown>, at);
    } else {
      throw invalid(`toScim.${at.join('.')}`, 'must be a claim path (a list of names) or an object of them');
    }
  }
}

export async function prepareIdentityProvider(resource: Resource, db?: Database, settings?: WriteSettings): Promise<Resource> {
  // The issuer is what the id_token's `iss` must equal (OIDC Core §3.1.3.7 step 2), so it is always required.
  if (typeof resource.issuer !== 'string') throw invalid('issuer', 'is required: id_tokens are checked against it (and without the endpoints, its discovery document supplies them)');
  validateShape(resource);
  const provider = resource as IdentityProvider;
  const endpoints = ['authorize_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'issuer'] as const;
  for (const field of endpoints) {
    const value = provider[field];
    // Warden calls these with the client secret and trusts their keys: https, no metadata addresses (SSRF).
    if (value !== undefined) checkOutboundUrl(`IdentityProvider.${field}`, value, settings);
  }
  if (provider.toScim) checkMapping(provider.toScim, []);
  const secret = provider.client.secret;
  if (secret === undefined || isSealed(secret)) return provider;
  if (!db) throw new Error('sealing an IdentityProvider secret needs the database');
  return { ...provider, client: { ...provider.client, secret: await seal(db, secret) } };
}

/** The identifier system of Users signed in through the provider: `system`, else the issuer. */
export const identifierSystemOf = (provider: IdentityProvider): string => provider.system ?? provider.issuer!;
