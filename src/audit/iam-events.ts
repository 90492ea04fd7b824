// The identity and access events: logins, logouts, tokens issued per grant, refresh, revocation, introspection
// of another client's token, client-authentication failures, throttling, consent. One call each, from the
// endpoint that knows the outcome; the request's scope supplies the address and request id. Never a password,
// secret, token or code: only names, ids, grant types and scopes.
import {
  APPLICATION_ACTIVITY,
  LOGIN,
  LOGIN_SUBTYPE,
  LOGOUT_SUBTYPE,
  SECURITY_ALERT,
  securityEvent,
  wardenCode,
  type Actor,
  type Coding,
  type Outcome,
} from './event.ts';
import { recordAudit } from './scope.ts';

/** IHE IUA (ITI-71): an access token requested from the authorization server. */
const GET_ACCESS_TOKEN: Coding = { system: 'urn:ihe:event-type-code', code: 'ITI-71', display: 'Get Access Token' };

interface Who {
  clientId?: string;
  userId?: string;
  sessionId?: string;
}

/** The request's actor, with what the endpoint established itself (a client authenticated in the handler). */
const as = (actor: Actor, who: Who): Actor => ({
  ...actor,
  ...(who.clientId && { clientId: who.clientId }),
  ...(who.userId && { userId: who.userId }),
  ...(who.sessionId && { sessionId: who.sessionId }),
});

const failed = (reason: string | undefined): { outcome: Outcome; outcomeDesc?: string } => (reason === undefined ? { outcome: '0' } : { outcome: '4', outcomeDesc: reason });

/**
 * A token request at POST /auth/token, by grant (refresh included): issued, or refused with the error. `login` is
 * the user name a password grant tried, kept on failure too (never the password).
 */
export function auditTokenRequest(grant: string, who: Who & { login?: string; scope?: string }, refused?: string): void {
  recordAudit((actor) =>
    securityEvent(
      {
        type: GET_ACCESS_TOKEN,
        subtype: [wardenCode(grant)],
        action: 'C',
        ...failed(refused),
        entities: [
          ...(who.userId ? [{ reference: `User/${who.userId}` }] : who.login ? [{ name: who.login }] : []),
          ...(who.sessionId ? [{ reference: `Session/${who.sessionId}` }] : []),
          ...(who.scope ? [{ name: 'scope', detail: { scope: who.scope } }] : []),
        ],
      },
      as(actor, who),
    ),
  );
}

/** A user's login on Warden's pages (or a failed one, with the name tried). */
export function auditLogin(who: Who & { login: string }, refused?: string): void {
  recordAudit((actor) =>
    securityEvent(
      { type: LOGIN, subtype: [LOGIN_SUBTYPE], action: 'E', ...failed(refused), entities: [who.userId ? { reference: `User/${who.userId}`, name: who.login } : { name: who.login }] },
      as(actor, who),
    ),
  );
}

export function auditLogout(who: Who): void {
  recordAudit((actor) =>
    securityEvent(
      { type: LOGIN, subtype: [LOGOUT_SUBTYPE], action: 'E', outcome: '0', entities: who.sessionId ? [{ reference: `Session/${who.sessionId}` }] : [] },
      as(actor, who),
    ),
  );
}

/** A client that failed to authenticate (wrong secret, bad assertion, unknown id): the id it claimed. */
export function auditClientAuthFailure(claimedClientId: string | undefined, reason: string): void {
  recordAudit((actor) =>
    securityEvent(
      {
        type: LOGIN,
        subtype: [wardenCode('client-authentication', 'Client authentication')],
        action: 'E',
        outcome: '4',
        outcomeDesc: reason,
        entities: claimedClientId ? [{ reference: `Client/${claimedClientId.slice(0, 64)}` }] : [],
      },
      actor,
    ),
  );
}

/** Authentication refused with 429: the identity (`Client/x`, `User/y`) or address used up its failures. */
export function auditThrottled(identity: string, retryAfterSeconds: number): void {
  recordAudit((actor) =>
    securityEvent(
      {
        type: SECURITY_ALERT,
        subtype: [wardenCode('throttled', 'Too many failed authentications')],
        action: 'E',
        outcome: '4',
        outcomeDesc: `429: retry after ${retryAfterSeconds} s`,
        entities: [{ name: identity.slice(0, 200) }],
      },
      actor,
    ),
  );
}

export function auditRevocation(who: Who, tokenKind: string): void {
  recordAudit((actor) =>
    securityEvent(
      {
        type: APPLICATION_ACTIVITY,
        subtype: [wardenCode('token-revoked', 'Token revoked')],
        action: 'D',
        outcome: '0',
        entities: [{ name: tokenKind, ...(who.sessionId && { reference: `Session/${who.sessionId}` }) }],
      },
      as(actor, who),
    ),
  );
}

/** Introspection by a client of a token issued to another (a resource server asking about a caller's token). */
export function auditIntrospection(callerClientId: string, tokenClientId: string, active: boolean): void {
  recordAudit((actor) =>
    securityEvent(
      {
        type: APPLICATION_ACTIVITY,
        subtype: [wardenCode('token-introspected', 'Token of another client introspected')],
        action: 'R',
        outcome: '0',
        outcomeDesc: active ? 'active' : 'inactive',
        entities: [{ reference: `Client/${tokenClientId}` }],
      },
      as(actor, { clientId: callerClientId }),
    ),
  );
}

/** Consent given (the user approved the scopes) or withdrawn (the user revoked a client's access). */
export function auditConsent(given: boolean, who: Who & { patient?: string; scope?: string }): void {
  recordAudit((actor) =>
    securityEvent(
      {
        type: APPLICATION_ACTIVITY,
        subtype: [wardenCode(given ? 'consent-given' : 'consent-withdrawn', given ? 'Consent given' : 'Consent withdrawn')],
        action: given ? 'C' : 'D',
        outcome: '0',
        entities: [...(who.clientId ? [{ reference: `Client/${who.clientId}` }] : []), ...(who.scope ? [{ name: 'scope', detail: { scope: who.scope } }] : [])],
        ...(who.patient && { patients: [who.patient] }),
      },
      as(actor, who),
    ),
  );
}
