// Where external tokens join Bearer authentication. Warden's own tokens keep their own path and errors:
//   - a JWT whose `iss` is Warden's base URL is Warden's, whatever TokenIntrospectors say;
//   - a JWT of any other issuer goes to the TokenIntrospectors only;
//   - an opaque token is Warden's if its store knows it; only one it does not know goes to the opaque
//     introspectors, so Warden's own (even revoked) tokens are never sent to another provider.
import type { AppContext } from '../../context.ts';
import { InvalidToken } from '../../errors.ts';
import type { AccessTokens } from '../../tokens/access-token.ts';
import type { BearerAuthenticator } from '../bearer.ts';
import type { Identity } from '../identity.ts';
import { invalidToken } from './errors.ts';
import { claimedIssuer, externalTokens } from './external-tokens.ts';
import type { OperatorLog } from './jwt-verifier.ts';

export function withExternalTokens(ctx: AppContext, own: BearerAuthenticator, accessTokens: AccessTokens) {
  const external = externalTokens(ctx);
  const ownIssuer = ctx.config.baseUrl;
  return {
    async authenticate(token: string, log?: OperatorLog): Promise<Identity> {
      // A token this process has verified is Warden's own (its issuer was checked then): the usual case, and
      // decoding it again to read its issuer was the largest cost of a Bearer request's authentication.
      const verified = await own.identifyVerified(token);
      if (verified) return verified;
      const issuer = claimedIssuer(token);
      if (issuer === ownIssuer) return own.identify(token);
      if (issuer !== null) {
        const identity = await external.authenticate(token, log);
        if (!identity) throw invalidToken('The access token was not issued by a trusted issuer');
        return identity;
      }
      try {
        return await own.identify(token);
      } catch (refusal) {
        if (!(refusal instanceof InvalidToken)) throw refusal;
        if (await accessTokens.read(token)) throw refusal;
        const identity = await external.authenticate(token, log);
        if (!identity) throw refusal;
        return identity;
      }
    },
  };
}
