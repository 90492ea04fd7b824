// Bearer authentication (RFC 6750) with an access token this server issued, JWT or opaque. A token is
// honoured only when it verifies, has not expired, names this server in its audience, and its Session,
// Client and User still exist.
import { InvalidToken } from '../errors.ts';
import { seconds, type AccessClaims, type AccessTokens, type Clock } from '../tokens/access-token.ts';
import type { Sessions } from '../tokens/session.ts';
import type { Identity } from './identity.ts';

/** RFC 6750 §2.1: b64token syntax. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

export class BearerAuthenticator {
  constructor(
    private readonly tokens: AccessTokens,
    private readonly sessions: Sessions,
    private readonly audience: string,
    private readonly clock: Clock,
  ) {}

  /** The identity a token stands for; throws InvalidToken with a reason the caller may read. */
  async identify(token: string): Promise<Identity> {
    if (!B64TOKEN.test(token)) throw new InvalidToken('The access token is malformed');
    const claims = await this.tokens.read(token);
    if (!claims) throw new InvalidToken('The access token is invalid or expired');
    return this.identityOfOwn(claims);
  }

  /** Like identify, for a token this process has verified before; null for any other (nothing is verified). */
  async identifyVerified(token: string): Promise<Identity | null> {
    if (!B64TOKEN.test(token)) return null;
    const claims = await this.tokens.readVerified(token);
    return claims && this.identityOfOwn(claims);
  }

  private async identityOfOwn(claims: AccessClaims): Promise<Identity> {
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(this.audience)) throw new InvalidToken(`The access token is for another audience, not ${this.audience}`);
    return this.identityOf(claims);
  }

  async identityOf(claims: AccessClaims): Promise<Identity> {
    const live = await this.sessions.live(claims.sid, claims.client_id, claims.sub, seconds(this.clock));
    if (!live) throw new InvalidToken('The access token was revoked or its session has ended');
    return {
      method: 'bearer',
      client: live.client,
      ...(live.user && { user: live.user }),
      session: live.session,
      jwt: claims,
      scopes: typeof claims.scope === 'string' && claims.scope !== '' ? claims.scope.split(' ') : [],
    };
  }
}
