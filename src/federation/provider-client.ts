// The openid-client Configuration for an IdentityProvider: from its own endpoints when it names them all,
// else from its issuer's discovery document (OpenID Connect Discovery 1.0). Made once per version of the
// provider; a failed discovery is not kept, so the next sign-in tries again.
import * as oidc from 'openid-client';
import type { Config } from '../config.ts';
import type { IdentityProvider } from '../iam/identity-provider.ts';
import type { Database } from '../store/database.ts';
import { outboundProblemNow } from '../http/outbound-url.ts';
import { unseal } from '../iam/sealed-secret.ts';

/** The provider could not be reached or is misconfigured: the user sees a page saying so, the log says why. */
export class ProviderUnavailable extends Error {}

/** Discovery documents are fetched again after this long, so a provider's key or endpoint move is seen. */
const CONFIGURATION_TTL_MS = 10 * 60_000;

export class ProviderClients {
  private readonly cache = new Map<string, { made: number; config: Promise<oidc.Configuration> }>();

  constructor(
    private readonly db: Database,
    private readonly config: Pick<Config, 'baseUrl' | 'externalTokens' | 'allowInsecureJwksUris'>,
  ) {}

  /** Where the provider sends the browser back: `client.redirect_uri` when registered so, else Warden's callback. */
  redirectUri(provider: IdentityProvider): string {
    return provider.client.redirect_uri ?? `${this.config.baseUrl}/auth/callback/${encodeURIComponent(provider.id)}`;
  }

  configuration(provider: IdentityProvider): Promise<oidc.Configuration> {
    const key = `${provider.id}\0${provider.meta?.versionId ?? ''}`;
    const cached = this.cache.get(key);
    if (cached && Date.now() - cached.made < CONFIGURATION_TTL_MS) return cached.config;
    for (const old of this.cache.keys()) if (old.startsWith(`${provider.id}\0`)) this.cache.delete(old);
    const config = this.make(provider);
    this.cache.set(key, { made: Date.now(), config });
    config.catch(() => this.cache.delete(key));
    return config;
  }

  private async make(provider: IdentityProvider): Promise<oidc.Configuration> {
    const secret = provider.client.secret === undefined ? undefined : await unseal(this.db, provider.client.secret);
    if (provider.client.secret !== undefined && secret === null) {
      throw new ProviderUnavailable(`IdentityProvider/${provider.id}: client.secret was sealed by another database; write it again`);
    }
    const auth = !secret
      ? oidc.None()
      : provider.client['auth-method'] === 'client_secret_post'
        ? oidc.ClientSecretPost(secret)
        : oidc.ClientSecretBasic(secret);
    const metadata: Partial<oidc.ClientMetadata> = { redirect_uris: [this.redirectUri(provider)] };
    // https everywhere; plain http passes the write rule only with WARDEN_ALLOW_INSECURE_JWKS_URIS (development).
    const urls = [provider.issuer, provider.authorize_endpoint, provider.token_endpoint, provider.userinfo_endpoint, provider.jwks_uri];
    const insecure = urls.some((url) => url?.startsWith('http:'));
    // OIDC Core §3.1.3.7 step 6 lets a client trust TLS instead of the signature; Warden checks it against the JWKS anyway.
    const execute = [oidc.enableNonRepudiationChecks, ...(insecure ? [oidc.allowInsecureRequests] : [])];
    const timeout = Math.max(1, Math.ceil(this.config.externalTokens.timeoutMs / 1000));
    let configuration: oidc.Configuration;
    if (provider.authorize_endpoint && provider.token_endpoint && provider.jwks_uri) {
      configuration = new oidc.Configuration(
        {
          issuer: provider.issuer,
          authorization_endpoint: provider.authorize_endpoint,
          token_endpoint: provider.token_endpoint,
          jwks_uri: provider.jwks_uri,
          ...(provider.userinfo_endpoint && { userinfo_endpoint: provider.userinfo_endpoint }),
        },
        provider.client.id,
        metadata,
        auth,
      );
      configuration.timeout = timeout;
      for (const step of execute) step(configuration);
    } else {
      try {
        configuration = await oidc.discovery(new URL(provider.issuer), provider.client.id, metadata, auth, { execute, timeout });
      } catch (error) {
        throw new ProviderUnavailable(`IdentityProvider/${provider.id}: discovery at ${provider.issuer} failed: ${(error as Error).message}`);
      }
    }
    await this.checkEndpoints(provider, configuration);
    return configuration;
  }

  /**
   * The endpoints Warden will call, including those a discovery document named (never checked at write time),
   * must pass the outbound-URL rule now, their host names resolved: no metadata or link-local address (SSRF).
   */
  private async checkEndpoints(provider: IdentityProvider, configuration: oidc.Configuration): Promise<void> {
    const metadata = configuration.serverMetadata();
    const urls = [metadata.authorization_endpoint, metadata.token_endpoint, metadata.userinfo_endpoint, metadata.jwks_uri];
    for (const url of urls) {
      if (typeof url !== 'string') continue;
      const problem = await outboundProblemNow(url, this.config.allowInsecureJwksUris);
      if (problem) throw new ProviderUnavailable(`IdentityProvider/${provider.id}: endpoint ${url} ${problem}`);
    }
  }
}
