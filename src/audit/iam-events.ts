// The identity and access events: logins, logouts, tokens issued per grant, refresh, revocation, introspection
// of another client's token, client-authentication failures, throttling, consent. One call each, from the
// endpoint that knows the outcome; the request's scope supplies the address and request id. Never a password,
// secret, token or code: only names, ids, grant types and scopes.
import type { FastifyRequest } from 'fastify';
import {
  APPLICATION_ACTIVITY,
  denialEvent,
  LOGIN,
  LOGIN_SUBTYPE,
  LOGOUT_SUBTYPE,
  SECURITY_ALERT,
  securityEvent,
  wardenCode,
  type Actor,
  type AuditEventResource,
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
export function tokenRequestEvent(grant: string, who: Who & { login?: string; scope?: string }, refused: string | undefined, actor: Actor): AuditEventResource {
  return securityEvent(
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
    );
}

/** A token issued at POST /auth/token: the user and scope read from the answer, never its tokens. */
export function auditTokenIssued(grant: string, clientId: string, params: { username?: string }, response: { scope?: string; userinfo?: unknown }): void {
  const userId = (response.userinfo as { sub?: unknown } | undefined)?.sub;
  const who = { clientId, ...(typeof userId === 'string' && { userId }), ...(params.username && { login: params.username }), ...(response.scope && { scope: response.scope }) };
  recordAudit((actor) => tokenRequestEvent(grant, who, undefined, actor));
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
export function clientAuthFailureEvent(claimedClientId: string | undefined, reason: string, actor: Actor): AuditEventResource {
  return securityEvent(
      {
        type: LOGIN,
        subtype: [wardenCode('client-authentication', 'Client authentication')],
        action: 'E',
        outcome: '4',
        outcomeDesc: reason,
        entities: claimedClientId ? [{ name: `Client/${claimedClientId.slice(0, 64)}` }] : [],
      },
      actor,
    );
}

/** Authentication refused with 429: the identity (`Client/x`, `User/y`) or address used up its failures. */
export function throttledEvent(identity: string, reason: string, actor: Actor): AuditEventResource {
  return securityEvent(
      {
        type: SECURITY_ALERT,
        subtype: [wardenCode('throttled', 'Too many failed authentications')],
        action: 'E',
        outcome: '4',
        outcomeDesc: `429: ${reason}`,
        entities: [{ name: identity.slice(0, 200) }],
      },
      actor,
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

/**
 * Consent given (the user allowed the client the scopes) or refused on the consent page. Withdrawing it later
 * is deleting the Grant resource: a Delete event like any other.
 */
export function auditConsent(given: boolean, who: Who & { patient?: string; scope?: string }): void {
  recordAudit((actor) =>
    securityEvent(
      {
        type: APPLICATION_ACTIVITY,
        subtype: [wardenCode(given ? 'consent-given' : 'consent-refused', given ? 'Consent given' : 'Consent refused')],
        action: given ? 'C' : 'D',
        outcome: '0',
        entities: [...(who.clientId ? [{ reference: `Client/${who.clientId}` }] : []), ...(who.scope ? [{ name: 'scope', detail: { scope: who.scope } }] : [])],
        ...(who.patient && { patients: [who.patient] }),
      },
      as(actor, who),
    ),
  );
}

/** A form or JSON field of the request, when it is one short string. */
function field(request: FastifyRequest, name: string): string | undefined {
  const body = request.body as Record<string, unknown> | undefined;
  const value = body && typeof body === 'object' ? body[name] : undefined;
  return typeof value === 'string' && value.length <= 256 ? value : undefined;
}

/** The client id a request claims: client_id in the body, or the id half of Basic credentials (never the secret). */
function claimedClientId(request: FastifyRequest): string | undefined {
  const fromBody = field(request, 'client_id');
  if (fromBody) return fromBody;
  const header = request.headers.authorization;
  if (typeof header !== 'string' || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon > 256) return undefined;
  try {
    return decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * A refused request to /auth/* that its endpoint did not record, read from the answer. 429: throttled (the name or
 * client tried); invalid_client: a client-authentication failure; any other refusal of POST /auth/token: a token
 * request refused, with the grant and the name tried; any other 401/403: an authorization refusal.
 */
export function refusedAuthRequestEvent(request: FastifyRequest, status: number, reason: string, actor: Actor): AuditEventResource | null {
  const path = request.url.split('?')[0];
  const clientId = claimedClientId(request);
  const login = field(request, 'username');
  if (status === 429) return throttledEvent(login ?? (clientId ? `Client/${clientId}` : (actor.address ?? '')), reason, actor);
  if (reason.startsWith('invalid_client')) return clientAuthFailureEvent(clientId, reason, actor);
  if (path === '/auth/token' && request.method === 'POST') {
    return tokenRequestEvent(field(request, 'grant_type') ?? 'unknown', { ...(clientId && { clientId }), ...(login && { login }) }, reason, actor);
  }
  if (status === 401 || status === 403) return denialEvent({ method: request.method, path, status, reason }, actor);
  return null;
}
