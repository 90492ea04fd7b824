// The audit scope of one request: who is calling, and the events the request gave rise to. It travels with the
// request's asynchronous work (AsyncLocalStorage), so the authorize step and the confined store view record
// what they do without every handler passing it on, and a Bundle's entries are audited like single requests.
// The events are handed to the trail when the response is sent; a mandatory trail holds the response until
// they are written.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { maskUrl } from '../log.ts';
import { fhirUserReference } from '../iam/user.ts';
import { denialEvent, type Actor, type AuditEventResource } from './event.ts';
import type { AuditTrail } from './trail.ts';

export interface AuditScope {
  trail: AuditTrail;
  request: FastifyRequest;
  events: AuditEventResource[];
  /** Why the request was refused, when it was: for the request's log line. */
  denial?: string;
}

const scopes = new AsyncLocalStorage<AuditScope>();

/** The current request's scope; none outside a request (the CLI, start-up) or when auditing is off. */
export function currentAuditScope(): AuditScope | undefined {
  const scope = scopes.getStore();
  return scope?.trail.enabled ? scope : undefined;
}

/** Who the request's caller is, as far as authentication went; never a credential. */
export function actorOf(request: FastifyRequest): Actor {
  const identity = request.identity;
  const user = identity?.user;
  const userResource = user ? fhirUserReference(user) : undefined;
  return {
    ...(identity && { clientId: identity.client.id }),
    ...(user && { userId: user.id }),
    ...(userResource && { userResource }),
    ...(identity?.session && { sessionId: identity.session.id }),
    address: request.ip,
    requestId: String(request.id),
    ...(request.access && { allowedBy: request.access.by }),
  };
}

/** Records events in the current request's scope, if there is one. */
export function recordAudit(build: (actor: Actor) => AuditEventResource | AuditEventResource[]): AuditEventResource[] {
  const scope = currentAuditScope();
  if (!scope) return [];
  const built = [build(actorOf(scope.request))].flat();
  scope.events.push(...built);
  return built;
}

/** Forgets events recorded earlier in this request (a read that turned out to be the first step of a write). */
export function unrecordAudit(events: readonly AuditEventResource[]): void {
  const scope = currentAuditScope();
  if (!scope || events.length === 0) return;
  scope.events = scope.events.filter((event) => !events.includes(event));
}

/** A search's query as the request sent it, with values that might be credentials masked as in the logs. */
export function requestQuery(): string | undefined {
  const url = currentAuditScope()?.request.url;
  if (!url) return undefined;
  const question = url.indexOf('?');
  return question < 0 ? '' : maskUrl(url).slice(url.indexOf('?') + 1);
}

/** Notes why the request was refused, for its log line. */
export function noteDenial(reason: string): void {
  const scope = scopes.getStore();
  if (scope) scope.denial = reason;
}

/** What a refusal's answer says of why: an OperationOutcome's diagnostics, an OAuth error's description. */
function reasonOf(payload: unknown): string {
  if (typeof payload !== 'string' || !payload.startsWith('{')) return '';
  try {
    const body = JSON.parse(payload) as { issue?: { diagnostics?: string }[]; error?: string; error_description?: string };
    return body.issue?.[0]?.diagnostics ?? [body.error, body.error_description].filter(Boolean).join(': ');
  } catch {
    return '';
  }
}

/**
 * A 401 or 403 that the authorization step did not decide (authentication refused a token, a form's CSRF check
 * failed...) and nothing else recorded: an authorization event all the same, so every refusal is in the trail.
 */
function recordRefusal(scope: AuditScope, request: FastifyRequest, status: number, payload: unknown): void {
  if (scope.events.length > 0) return;
  const reason = reasonOf(payload) || `HTTP ${status}`;
  scope.denial = reason;
  const path = request.url.split('?')[0];
  scope.events.push(denialEvent({ method: request.method, path, status, reason }, actorOf(request)));
}

/** onRequest: opens the request's scope; the rest of the request runs inside it. */
export function openAuditScope(trail: AuditTrail) {
  return function auditScope(request: FastifyRequest, _reply: FastifyReply, done: () => void): void {
    scopes.run({ trail, request, events: [] }, done);
  };
}

/**
 * onSend: the request's log line gets the caller's identity and any denial's reason; its events go to the trail,
 * and a mandatory trail holds the response until they are written (503 if they cannot be).
 */
export function closeAuditScope(trail: AuditTrail) {
  return async function sendAuditEvents(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
    const scope = scopes.getStore();
    const status = reply.statusCode;
    if (scope && (status === 401 || status === 403) && !scope.denial && scope.trail.enabled) recordRefusal(scope, request, status, payload);
    const actor = actorOf(request);
    const bindings = {
      ...(actor.clientId && { client: actor.clientId }),
      ...(actor.userId && { user: actor.userId }),
      ...(actor.sessionId && { session: actor.sessionId }),
      ...(scope?.denial && { denied: scope.denial }),
    };
    if (Object.keys(bindings).length > 0) reply.log = reply.log.child(bindings);
    if (!scope || scope.events.length === 0) return payload;
    const events = scope.events;
    scope.events = [];
    if (!trail.config.mandatory) {
      void trail.record(events);
      return payload;
    }
    try {
      await trail.record(events, true);
      return payload;
    } catch (error) {
      reply.log.error({ err: error }, 'the request is refused: its AuditEvents could not be written (mandatory auditing)');
      reply.code(503).header('content-type', 'application/fhir+json').header('retry-after', '5');
      reply.removeHeader('content-length');
      return JSON.stringify({
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'transient', diagnostics: 'The audit trail is unavailable and auditing is mandatory: try again later' }],
      });
    }
  };
}
