// Bearer tokens issued by other identity providers, trusted through TokenIntrospector resources.
// A JWT goes to the introspectors whose `jwt.iss` equals its (not yet verified) `iss`, and only to them;
// any other token goes to the opaque introspectors, in id order, until one says it is active.
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { AppContext } from '../../context.ts';
import type { Identity } from '../identity.ts';
import { invalidToken } from './errors.ts';
import { ExternalIdentityMapper } from './identity-mapping.ts';
import { Introspectors } from './introspectors.ts';
import type { OperatorLog } from './jwt-verifier.ts';

/** Longer tokens are refused unread; real access tokens are a few kilobytes at most. */
const MAX_TOKEN_LENGTH = 16 * 1024;

/** The issuer a token claims, before any verification; null when the token is not a signed JWT at all. */
export function claimedIssuer(token: string): string | null {
  if (token.split('.').length !== 3) return null;
  try {
    decodeProtectedHeader(token);
    const { iss } = decodeJwt(token);
    return typeof iss === 'string' ? iss : null;
  } catch {
    return null;
  }
}

const built = new WeakMap<AppContext, ExternalTokens>();

/** The one ExternalTokens of an app, shared by the Bearer hook and the token exchange. */
export function externalTokens(ctx: AppContext): ExternalTokens {
  let tokens = built.get(ctx);
  if (!tokens) built.set(ctx, (tokens = new ExternalTokens(ctx)));
  return tokens;
}

export class ExternalTokens {
  readonly introspectors: Introspectors;
  private readonly mapper: ExternalIdentityMapper;

  constructor(ctx: AppContext) {
    this.introspectors = new Introspectors(ctx.db, ctx.feed, { ...ctx.config.externalTokens, allowInsecureJwksUris: ctx.config.allowInsecureJwksUris });
    this.mapper = new ExternalIdentityMapper(ctx.resources, ctx.config.rootClient?.id);
  }

  /**
   * The identity an external token stands for; null when no TokenIntrospector is meant for it, so the caller
   * can refuse it as unknown. Throws 401 when an introspector is meant for it and refuses it.
   */
  async authenticate(token: string, log?: OperatorLog): Promise<Identity | null> {
    if (token.length > MAX_TOKEN_LENGTH) throw invalidToken('The token is too long');
    const { byIssuer, opaque } = await this.introspectors.current();
    const issuer = claimedIssuer(token);
    const verifiers = issuer === null ? undefined : byIssuer.get(issuer);
    if (verifiers) {
      let refusal: unknown;
      for (const verifier of verifiers) {
        try {
          const claims = await verifier.verify(token, log);
          return this.mapper.identity({ method: 'external-jwt', introspector: verifier.introspector, claims });
        } catch (error) {
          refusal ??= error;
        }
      }
      throw refusal;
    }
    for (const introspector of opaque) {
      const answer = await introspector.introspect(token, log);
      if (answer.active) {
        return this.mapper.identity({ method: 'external-opaque', introspector: introspector.introspector, claims: answer });
      }
    }
    if (opaque.length > 0) throw invalidToken('The token is not active');
    return null;
  }
}
