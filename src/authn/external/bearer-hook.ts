// Bearer authentication with external tokens only, until Warden issues tokens of its own: a token that no
// TokenIntrospector is meant for is refused as unknown.
import type { AppContext } from '../../context.ts';
import type { Identity } from '../identity.ts';
import { invalidToken } from './errors.ts';
import { ExternalTokens } from './external-tokens.ts';
import type { OperatorLog } from './jwt-verifier.ts';

/** RFC 6750 §2.1: b64token syntax. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

export function externalBearer(ctx: AppContext) {
  const external = new ExternalTokens(ctx);
  return async function authenticateBearer(token: string, log?: OperatorLog): Promise<Identity> {
    if (!B64TOKEN.test(token)) throw invalidToken('The access token is malformed');
    const identity = await external.authenticate(token, log);
    if (!identity) throw invalidToken('The access token was not issued by a trusted issuer');
    return identity;
  };
}
