// Client: an application that calls Warden. Its secret is stored only as a hash.
import { checkOutboundUrl, type WriteSettings } from '../http/outbound-url.ts';
import { compileResourceSchema } from './schema.ts';
import { storableSecretField } from './password-hash.ts';
import { checkRedirectUris } from './redirect-uris.ts';
import type { Resource } from '../store/resource-store.ts';

export const GRANT_TYPES = [
  'basic',
  'client_credentials',
  'password',
  'authorization_code',
  'code',
  'implicit',
  'refresh_token',
  'urn:ietf:params:oauth:grant-type:token-exchange',
] as const;

const grantSettings = {
  type: 'object',
  additionalProperties: false,
  properties: {
    access_token_expiration: { type: 'integer', minimum: 1 },
    token_format: { enum: ['jwt', 'opaque'] },
    access_token_format: { enum: ['jwt', 'opaque'] },
    refresh_token: { type: 'boolean' },
    refresh_token_expiration: { type: 'integer', minimum: 1 },
    audience: { type: 'string' },
    secret_required: { type: 'boolean' },
    redirect_uri: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    pkce: { type: 'boolean' },
  },
};

const validateClient = compileResourceSchema({
  type: 'object',
  additionalProperties: false,
  properties: {
    resourceType: { const: 'Client' },
    id: { type: 'string' },
    meta: { type: 'object' },
    secret: { type: 'string', minLength: 1 },
    grant_types: { type: 'array', items: { enum: GRANT_TYPES }, uniqueItems: true },
    redirect_uri: { type: 'string' },
    first_party: { type: 'boolean' },
    active: { type: 'boolean' },
    name: { type: 'string' },
    description: { type: 'string' },
    type: { type: 'string' },
    scope: { type: 'array', items: { type: 'string' } },
    allowed_origins: { type: 'array', items: { type: 'string' } },
    // OpenID Connect RP-Initiated Logout §3.1: where the browser may be sent after signing out, matched exactly.
    post_logout_redirect_uris: { type: 'array', items: { type: 'string', pattern: '^https?://' } },
    jwks: { type: 'object', required: ['keys'], properties: { keys: { type: 'array', items: { type: 'object' } } } },
    jwks_uri: { type: 'string', pattern: '^https?://' },
    smart: { type: 'object' },
    /** RFC 8693 token exchange (Aidbox 2412): the issuers whose tokens this Client may exchange. */
    allowedIssuers: { type: 'array', items: { type: 'string', minLength: 1 } },
    auth: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries([...GRANT_TYPES, 'token_exchange'].map((grant) => [grant, grantSettings])),
    },
  },
});

export async function prepareClient(client: Resource, _db?: unknown, settings?: WriteSettings): Promise<Resource> {
  validateClient(client);
  if (typeof client.jwks_uri === 'string') checkOutboundUrl('Client.jwks_uri', client.jwks_uri, settings);
  checkRedirectUris(client);
  if (typeof client.secret !== 'string') return client;
  return { ...client, secret: await storableSecretField(client.secret, 'Client.secret') };
}

/** How pages name a Client to its user: its `name`, else its id. */
export function clientDisplayName(client: Resource): string {
  return typeof client.name === 'string' ? client.name : client.id;
}
