// RFC 8693: token exchange, as Aidbox has it since 2412. A Client that lists the grant type and names trusted
// issuers in `allowedIssuers` trades a JWT from one of them (verified by the TokenIntrospector for that issuer)
// for Warden's own tokens, acting for the User the token names (`box_user`, else `sub`). Impersonation only: an
// `actor_token` (delegation, §2.1) is refused rather than ignored.
import { claimedIssuer } from '../../authn/external/external-tokens.ts';
import { FhirError } from '../../fhir/outcome.ts';
import { invalidGrant, invalidRequest } from '../errors.ts';
import { clientGrantTypes, grantSettings, tokenAudience, TOKEN_EXCHANGE } from '../grant-settings.ts';
import { required } from '../params.ts';
import { grantedScope } from '../scope.ts';
import { startSession } from '../token-response.ts';
import type { GrantHandler, GrantType } from './grant.ts';

/** RFC 8693 §3: the token types Warden can take as subject token (a JWT access token), and the one it issues. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const SUBJECT_TOKEN_TYPES = [ACCESS_TOKEN_TYPE, 'urn:ietf:params:oauth:token-type:jwt'];

function allowedIssuers(client: Record<string, unknown>): string[] {
  return Array.isArray(client.allowedIssuers) ? client.allowedIssuers.filter((value): value is string => typeof value === 'string') : [];
}

export const tokenExchangeGrant: GrantHandler = async ({ services, issuer, client, params, subjectTokens }) => {
  const subjectToken = required(params, 'subject_token');
  const subjectTokenType = required(params, 'subject_token_type');
  if (!SUBJECT_TOKEN_TYPES.includes(subjectTokenType)) {
    throw invalidRequest(`subject_token_type must be ${SUBJECT_TOKEN_TYPES.join(' or ')}: Warden exchanges JWT access tokens`);
  }
  if (params.actor_token !== undefined || params.actor_token_type !== undefined) {
    throw invalidRequest('actor_token is not supported: Warden exchanges tokens for the subject itself (impersonation), not delegation');
  }
  if (params.requested_token_type !== undefined && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
    throw invalidRequest(`requested_token_type may only be ${ACCESS_TOKEN_TYPE}`);
  }
  const settings = grantSettings(client, TOKEN_EXCHANGE);
  const audience = tokenAudience(settings, params.audience, issuer, invalidRequest);
  const scope = grantedScope(client, params.scope);

  // The issuer is checked against the Client's list before anything is fetched or verified for it.
  const tokenIssuer = claimedIssuer(subjectToken);
  if (tokenIssuer === null) throw invalidGrant('subject_token is not a signed JWT with an iss claim');
  if (!allowedIssuers(client).includes(tokenIssuer)) {
    throw invalidGrant(`Client "${client.id}" does not trust issuer "${tokenIssuer.slice(0, 200)}": add it to the Client's allowedIssuers`);
  }
  const { byIssuer } = await subjectTokens.introspectors.current();
  if (!byIssuer.has(tokenIssuer)) {
    throw invalidGrant(`No TokenIntrospector verifies tokens of issuer "${tokenIssuer.slice(0, 200)}": register one with jwt.iss set to it`);
  }
  let identity;
  try {
    identity = await subjectTokens.authenticate(subjectToken);
  } catch (error) {
    if (error instanceof FhirError && error.status === 401) throw invalidGrant(`subject_token was refused: ${error.message}`);
    throw error;
  }
  const user = identity?.user;
  if (!user) throw invalidGrant('subject_token names no User of this server (by its box_user or sub claim)');
  const response = await startSession(services, { grant: TOKEN_EXCHANGE, client, user, audience, scope, settings });
  // RFC 8693 §2.2.1: issued_token_type is required in the answer.
  return { ...response, issued_token_type: ACCESS_TOKEN_TYPE };
};

/** RFC 8693 §2.1: as the password grant, a client without a secret may exchange when its settings say so. */
export const tokenExchange: GrantType = {
  type: TOKEN_EXCHANGE,
  mayAuthenticateWithIdOnly: (client) => !grantSettings(client, TOKEN_EXCHANGE).secretRequired,
  clientMayUse: (client) => clientGrantTypes(client).includes(TOKEN_EXCHANGE),
  handle: tokenExchangeGrant,
};
