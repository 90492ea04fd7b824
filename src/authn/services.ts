// The credential checkers and token machinery of one app, built once and shared by the authenticate hook
// and the /auth endpoints (so they share one secret cache, one key set and one throttle).
import type { AppContext } from '../context.ts';
import { AccessTokens, type Clock } from '../tokens/access-token.ts';
import { KeyStore } from '../tokens/keys.ts';
import { RefreshTokens } from '../tokens/refresh-token.ts';
import { Sessions } from '../tokens/session.ts';
import { BasicAuthenticator } from './basic.ts';
import { BearerAuthenticator } from './bearer.ts';
import { SecretChecker } from './secret-check.ts';
import { FailureThrottle } from './throttle.ts';

export interface AuthServices {
  clock: Clock;
  secrets: SecretChecker;
  basic: BasicAuthenticator;
  bearer: BearerAuthenticator;
  keys: KeyStore;
  accessTokens: AccessTokens;
  refreshTokens: RefreshTokens;
  sessions: Sessions;
  /** Loads (or makes) the signing keys; awaited once while the server is built. */
  ready: Promise<void>;
}

const built = new WeakMap<AppContext, AuthServices>();

export function authServices(ctx: AppContext, clock: Clock = Date.now): AuthServices {
  let services = built.get(ctx);
  if (services) return services;
  const { db, resources, live, feed, config } = ctx;
  const secrets = new SecretChecker(live, new FailureThrottle(db, config.throttle, feed));
  const keys = new KeyStore(db, config.tokenSigningAlg);
  const sessions = new Sessions(db, resources, live);
  const accessTokens = new AccessTokens(db, keys, config.baseUrl, clock);
  services = {
    clock,
    secrets,
    basic: new BasicAuthenticator(secrets),
    bearer: new BearerAuthenticator(accessTokens, sessions, config.baseUrl, clock),
    keys,
    accessTokens,
    refreshTokens: new RefreshTokens(db, clock),
    sessions,
    ready: keys.start(),
  };
  built.set(ctx, services);
  return services;
}
