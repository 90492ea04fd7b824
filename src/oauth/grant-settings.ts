// A Client's settings for one grant, as Aidbox keeps them in `Client.auth.<grant>`, with Warden's defaults.
import type { Resource } from '../store/resource-store.ts';
import type { TokenFormat } from '../tokens/access-token.ts';

export interface GrantSettings {
  accessTokenLifetime: number;
  format: TokenFormat;
  refreshToken: boolean;
  refreshTokenLifetime: number;
  audience?: string;
  secretRequired: boolean;
}

export const DEFAULT_ACCESS_TOKEN_LIFETIME = 3600;
export const DEFAULT_REFRESH_TOKEN_LIFETIME = 30 * 24 * 3600;

/** RFC 8693's grant type; Aidbox lists it in grant_types by this name and keeps its settings in `auth.token_exchange`. */
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** The key of a grant's settings in `Client.auth`. */
export function settingsKey(grant: string): string {
  return grant === TOKEN_EXCHANGE ? 'token_exchange' : grant;
}

export function grantSettings(client: Resource, grant: string): GrantSettings {
  const auth = (client.auth ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const settings = auth[settingsKey(grant)] ?? {};
  // Aidbox's documents name the format both `access_token_format` (the seed) and `token_format`.
  const format = settings.access_token_format ?? settings.token_format;
  return {
    accessTokenLifetime: typeof settings.access_token_expiration === 'number' ? settings.access_token_expiration : DEFAULT_ACCESS_TOKEN_LIFETIME,
    format: format === 'opaque' ? 'opaque' : 'jwt',
    refreshToken: settings.refresh_token === true,
    refreshTokenLifetime:
      typeof settings.refresh_token_expiration === 'number' ? settings.refresh_token_expiration : DEFAULT_REFRESH_TOKEN_LIFETIME,
    ...(typeof settings.audience === 'string' && { audience: settings.audience }),
    secretRequired: settings.secret_required !== false,
  };
}

export function clientGrantTypes(client: Resource): string[] {
  return Array.isArray(client.grant_types) ? (client.grant_types as string[]) : [];
}

/**
 * The token's audience: the `audience` parameter, else the grant's setting, else this server. A grant with
 * an audience setting only issues tokens for it.
 */
export function tokenAudience(settings: GrantSettings, requested: string | undefined, ownUrl: string, fail: (message: string) => Error): string {
  if (requested === undefined) return settings.audience ?? ownUrl;
  if (settings.audience !== undefined && requested !== settings.audience) {
    throw fail(`This client's tokens are for audience "${settings.audience}" only`);
  }
  // RFC 8693 §2.1: an audience is a logical name (a URI, or a client id of a resource server), not free text.
  if (!/^[\x21-\x7e]{1,2000}$/.test(requested)) throw fail('audience must be a URI or a name without spaces');
  return requested;
}
