// What Warden remembers while the browser is away at an identity provider: state, nonce and PKCE verifier, the
// provider it was sent to and the authorization request to continue. The row is keyed by the hash of a random
// cookie, so only the browser that started the flow can finish it (RFC 9700 §4.7.1: state bound to the user
// agent), and it is taken once: a replayed callback finds nothing.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { clearCookie, readCookies, setCookie } from '../http/cookies.ts';
import type { Database } from '../store/database.ts';

/** Long enough to sign in at the provider, short enough that a stolen cookie soon means nothing. */
const FLOW_SECONDS = 600;

export interface FederationFlow {
  providerId: string;
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
}

const hash = (value: string) => createHash('sha256').update(value).digest('base64url');

export class FederationFlows {
  readonly cookieName: string;
  private readonly secure: boolean;

  constructor(
    private readonly db: Database,
    baseUrl: string,
  ) {
    this.secure = baseUrl.startsWith('https:');
    this.cookieName = this.secure ? '__Host-warden_federation' : 'warden_federation';
  }

  /** Starts a flow to `providerId`: fresh state, nonce and verifier, bound to a new cookie. */
  async begin(reply: FastifyReply, providerId: string, returnTo: string): Promise<FederationFlow> {
    const binding = randomBytes(32).toString('base64url');
    const flow: FederationFlow = {
      providerId,
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      returnTo,
    };
    await this.db.query(
      `insert into federation_flow (binding_hash, provider_id, state, nonce, code_verifier, return_to, expires_at)
       values ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))`,
      [hash(binding), flow.providerId, flow.state, flow.nonce, flow.codeVerifier, flow.returnTo, FLOW_SECONDS],
    );
    setCookie(reply, this.cookieName, binding, { secure: this.secure, maxAge: FLOW_SECONDS });
    return flow;
  }

  /** The flow this browser started, removed so it cannot be used twice; null when there is none (or it expired). */
  async take(request: FastifyRequest, reply: FastifyReply): Promise<FederationFlow | null> {
    const binding = readCookies(request).get(this.cookieName);
    if (!binding || binding.length > 100) return null;
    clearCookie(reply, this.cookieName, { secure: this.secure });
    const [row] = await this.db.query<{ provider_id: string; state: string; nonce: string; code_verifier: string; return_to: string }>(
      `delete from federation_flow where binding_hash = $1 and expires_at > now()
       returning provider_id, state, nonce, code_verifier, return_to`,
      [hash(binding)],
    );
    return row
      ? { providerId: row.provider_id, state: row.state, nonce: row.nonce, codeVerifier: row.code_verifier, returnTo: row.return_to }
      : null;
  }
}
