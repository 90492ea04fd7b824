// RFC 6749 §4.1.3: the authorization_code grant. A code is used once (a second use revokes what the first one
// issued, §4.1.2), by the client it was issued to, with the redirect URI it was sent to, and with the PKCE
// verifier of its challenge (RFC 7636 §4.6). Its client's first exchange spends it, whether it succeeds or not;
// another client's attempt is refused without touching it. Failed exchanges are throttled per client and address.
import { createHash, timingSafeEqual } from 'node:crypto';
import { loadActiveUser } from '../../authn/user-login.ts';
import { AuthorizationCodes } from '../authorize/code-store.ts';
import { invalidGrant, invalidRequest } from '../errors.ts';
import { grantSettings } from '../grant-settings.ts';
import { required } from '../params.ts';
import { GuessThrottle } from '../guesses.ts';
import { tokenResponseUserinfo } from '../userinfo.ts';
import type { GrantHandler, GrantRequest, GrantType } from './grant.ts';
import { issueUserTokens } from './user-session.ts';
import { isPublicClient } from '../authorize/check-pkce.ts';
import { allowsResponseType } from '../authorize/check-response-type.ts';

/** RFC 7636 §4.1: code-verifier = 43*128unreserved. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

function pkceMatches(verifier: string, challenge: string): boolean {
  const computed = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}

const UNKNOWN = 'The authorization code is invalid or expired';

export const authorizationCodeGrant: GrantHandler = (grant) =>
  new GuessThrottle(grant.services.secrets.throttle, 'code', grant.client.id, grant.request.ip).redeem(() => exchange(grant));

async function exchange({ services, issuer, client, authMethod, params }: GrantRequest) {
  const code = required(params, 'code');
  const codes = new AuthorizationCodes(services.sessions.db);
  const stored = await codes.find(code);
  if (!stored || stored.expired) throw invalidGrant(UNKNOWN);
  // RFC 6749 §4.1.3: the code must have been issued to the authenticated client. Another client's attempt
  // neither spends it nor revokes what it issued (it would let whoever saw a code burn it for its client), and
  // is told no more than for an unknown code.
  if (stored.clientId !== client.id) throw invalidGrant(UNKNOWN);
  if (stored.used) {
    if (stored.issuedSession) await services.sessions.end(stored.issuedSession);
    throw invalidGrant('The authorization code was already used; the tokens issued for it have been revoked');
  }
  // The code is spent before any other check of the exchange: RFC 6749 §10.5 and RFC 9700 §2.1.1 make it single
  // use, so a wrong redirect URI or PKCE verifier leaves it unusable, and no one may guess verifiers against it.
  // Of two exchanges racing for one code only one wins; the other is a replay.
  if (!(await codes.consume(code))) {
    const again = await codes.find(code);
    if (again?.issuedSession) await services.sessions.end(again.issuedSession);
    throw invalidGrant('The authorization code was already used or has expired');
  }

  const redirectUri = params.redirect_uri;
  if (stored.redirectUriRequired && redirectUri === undefined) {
    throw invalidRequest('redirect_uri is required: the authorization request named one');
  }
  if (redirectUri !== undefined && redirectUri !== stored.redirectUri) {
    throw invalidGrant('redirect_uri does not match the one the authorization code was sent to');
  }

  const verifier = params.code_verifier;
  if (stored.codeChallenge !== null) {
    if (verifier === undefined) throw invalidGrant('code_verifier is required: the authorization request used PKCE');
    if (!VERIFIER.test(verifier) || !pkceMatches(verifier, stored.codeChallenge)) throw invalidGrant('code_verifier does not match the code_challenge');
  } else {
    // RFC 9700 §2.1.1: a verifier for a code issued without a challenge is a PKCE downgrade attempt.
    if (verifier !== undefined) throw invalidGrant('code_verifier was sent, but the authorization request had no code_challenge');
    // A client that did not authenticate has only PKCE to prove the code is its own.
    if (authMethod === 'none') throw invalidGrant('A client that does not authenticate must use PKCE');
  }

  const user = await loadActiveUser(services.sessions.db, stored.userId);
  if (!user) throw invalidGrant('The user of this authorization code no longer exists or is inactive');

  const { response, sessionId } = await issueUserTokens(services, {
    grant: 'authorization_code',
    issuer,
    client,
    user,
    scope: stored.scope || undefined,
    settings: grantSettings(client, 'authorization_code'),
    browser: { sid: stored.sid, authTime: stored.authTime },
    nonce: stored.nonce ?? undefined,
    launch: stored.launchContext,
  });
  await codes.recordIssued(code, sessionId);
  return { ...response, userinfo: tokenResponseUserinfo(user) };
}

/** RFC 6749 §4.1.3 + RFC 7636: a public client exchanges its code with PKCE alone; a confidential one authenticates. */
export const authorizationCode: GrantType = {
  type: 'authorization_code',
  mayAuthenticateWithIdOnly: (client) => isPublicClient(client) || !grantSettings(client, 'authorization_code').secretRequired,
  clientMayUse: (client) => allowsResponseType(client, 'code'),
  handle: authorizationCodeGrant,
};
