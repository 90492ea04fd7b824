// A Client as Warden reads it: what a stored Client's fields mean, worked out in one place, once per stored
// version (node-oidc-provider's lib/models/client.js; fosite's Client). The store and the LiveCache keep the
// JSON; `clientModel(resource)` builds the model the first time a resource object is asked about and keeps it
// beside that object, so a cached Client is read once however many requests use it.
import type { Resource } from '../store/resource-store.ts';

/** How an access token is carried: a signed JWT (RFC 9068) or a random opaque value. */
export type TokenFormat = 'jwt' | 'opaque';

/** A Client's settings for one grant, as Aidbox keeps them in `Client.auth.<grant>`, with Warden's defaults. */
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

type AuthSettings = Record<string, Record<string, unknown> | undefined>;

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function asList(value: unknown, splitCommas: boolean): string[] {
  const items = typeof value === 'string' ? (splitCommas ? value.split(',') : [value]) : Array.isArray(value) ? value : [];
  return items.filter((item): item is string => typeof item === 'string').map((item) => item.trim()).filter(Boolean);
}

export class Client {
  readonly id: string;
  /** No secret: a SMART public app (a browser or native app), which proves itself with PKCE alone. */
  readonly isPublic: boolean;
  /** `first_party`: the service itself (the console); its users are never asked for consent. */
  readonly firstParty: boolean;
  /** A deactivated Client (`active: false`) is as if it did not exist. */
  readonly active: boolean;
  readonly grantTypes: readonly string[];
  /** `scope`: the scopes it may ask for; undefined when it lists none (then it is not limited at the token step). */
  readonly allowedScopes: readonly string[] | undefined;
  /** RFC 8693 token exchange (Aidbox 2412): the issuers whose tokens it may exchange. */
  readonly allowedIssuers: readonly string[];
  /** RFC 7636: a public Client, or one whose `auth.authorization_code.pkce` is true, must send a code challenge. */
  readonly pkceRequired: boolean;
  /** The stored hash of its secret (never the secret: iam/client.ts hashes it when written). */
  readonly secretHash: string | undefined;
  /** private_key_jwt (RFC 7523): its public keys, inline or at a URL. */
  readonly jwks: unknown;
  readonly jwksUri: string | undefined;
  /** Aidbox keeps a SMART app's launch URI in `smart.launch_uri`. */
  readonly launchUri: string | undefined;
  private readonly auth: AuthSettings;

  constructor(readonly resource: Resource) {
    this.id = resource.id;
    this.isPublic = typeof resource.secret !== 'string';
    this.firstParty = resource.first_party === true;
    this.active = resource.active !== false;
    this.grantTypes = strings(resource.grant_types);
    this.allowedScopes = Array.isArray(resource.scope) ? strings(resource.scope) : undefined;
    this.allowedIssuers = strings(resource.allowedIssuers);
    this.auth = (resource.auth ?? {}) as AuthSettings;
    this.pkceRequired = this.isPublic || this.auth.authorization_code?.pkce === true;
    this.secretHash = typeof resource.secret === 'string' ? resource.secret : undefined;
    this.jwks = resource.jwks;
    this.jwksUri = typeof resource.jwks_uri === 'string' ? resource.jwks_uri : undefined;
    const smart = resource.smart as { launch_uri?: unknown } | undefined;
    this.launchUri = typeof smart?.launch_uri === 'string' ? smart.launch_uri : undefined;
  }

  allowsGrant(grant: string): boolean {
    return this.grantTypes.includes(grant);
  }

  /** A Client that lists no grant_types may use the code flow (Aidbox's default); `code` is Aidbox's older name. */
  allowsResponseType(responseType: 'code' | 'token'): boolean {
    if (!Array.isArray(this.resource.grant_types)) return responseType === 'code';
    return responseType === 'code' ? this.allowsGrant('authorization_code') || this.allowsGrant('code') : this.allowsGrant('implicit');
  }

  /** The settings of one grant (`auth.<grant>`), with Warden's defaults. */
  settings(grant: string): GrantSettings {
    const settings = this.auth[settingsKey(grant)] ?? {};
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

  /** `auth.<grant>.refresh_token` as written: true, false, or not said (then the `refresh_token` grant type decides). */
  refreshTokenSetting(grant: string): boolean | undefined {
    const setting = this.auth[settingsKey(grant)]?.refresh_token;
    return typeof setting === 'boolean' ? setting : undefined;
  }

  /**
   * The URIs registered for a response type: Aidbox's `auth.authorization_code.redirect_uri` (or
   * `auth.implicit.redirect_uri`), a string or a list, and the older top-level `redirect_uri`, comma separated.
   */
  registeredRedirectUris(responseType: string | undefined): string[] {
    const grants =
      responseType === 'code' ? ['authorization_code', 'code'] : responseType === 'token' ? ['implicit'] : ['authorization_code', 'code', 'implicit'];
    const uris = grants.flatMap((grant) => asList(this.auth[grant]?.redirect_uri, false));
    uris.push(...asList(this.resource.redirect_uri, true));
    return [...new Set(uris)];
  }
}

const built = new WeakMap<Resource, Client>();

/** The model of a stored Client, built once per resource object. */
export function clientModel(resource: Resource): Client {
  let client = built.get(resource);
  if (!client) built.set(resource, (client = new Client(resource)));
  return client;
}
