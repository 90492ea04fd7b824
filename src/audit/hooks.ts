// The audit scope's two hooks: opened first thing for each request, closed when its response is sent. Closing
// hands the request's events to the trail (a mandatory trail holds the response until they are written), puts the
// caller's identity and any refusal's reason on the request's log line, and records the refusals nothing else did.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { denialEvent } from './event.ts';
import { refusedAuthRequestEvent } from './iam-events.ts';
import { actorOf, scopes, type AuditScope } from './scope.ts';
import type { AuditTrail } from './trail.ts';

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
 * A refusal that nothing recorded: a 401 or 403 the authorization step did not decide (authentication refused a
 * token, a form's CSRF check failed) is an authorization event all the same; on /auth/*, a refused token request,
 * client authentication or throttled attempt is its identity event (iam-events.ts).
 */
function recordRefusal(scope: AuditScope, request: FastifyRequest, status: number, payload: unknown): void {
  if (scope.events.length > 0) return;
  const reason = reasonOf(payload) || `HTTP ${status}`;
  if (status === 401 || status === 403) scope.denial = reason;
  const path = request.url.split('?')[0];
  const actor = actorOf(request);
  const event = path.startsWith('/auth/')
    ? refusedAuthRequestEvent(request, status, reason, actor)
    : status === 401 || status === 403
      ? denialEvent({ method: request.method, path, status, reason }, actor)
      : null;
  if (event) scope.events.push(event);
}

/**
 * onRequest, when auditing is on: opens the request's scope; the rest of the request runs inside it. With auditing
 * off there is nothing to record and no scope: running every request in an AsyncLocalStorage costs each of its
 * promises a hook.
 */
export function openAuditScope(trail: AuditTrail) {
  return function auditScope(request: FastifyRequest, _reply: FastifyReply, done: () => void): void {
    scopes.run({ trail, request, events: [] }, done);
  };
}

/**
 * The request's log line names the caller and, on a refusal, why. A 401 or 403 whose reason nothing noted (as
 * when auditing is off) says it in its answer. Pino's child loggers are costly to make: the request's own logger
 * (Fastify makes one per request) takes the bindings.
 */
function describeOnLogLine(request: FastifyRequest, reply: FastifyReply, status: number, payload: unknown, denial: string | undefined): void {
  const identity = request.identity;
  const denied = denial ?? (status === 401 || status === 403 ? reasonOf(payload) || undefined : undefined);
  if (!identity && !denied) return;
  const bindings = {
    ...(identity && { client: identity.client.id }),
    ...(identity?.user && { user: identity.user.id }),
    ...(identity?.session && { session: identity.session.id }),
    ...(denied && { denied }),
  };
  const log = reply.log as FastifyReply['log'] & { setBindings?: (bindings: Record<string, unknown>) => void };
  if (log.setBindings) log.setBindings(bindings);
  else reply.log = log.child(bindings);
}

/**
 * onSend: the request's log line gets the caller's identity and any denial's reason; its events go to the trail,
 * and a mandatory trail holds the response until they are written (503 if they cannot be).
 */
export function closeAuditScope(trail: AuditTrail) {
  return async function sendAuditEvents(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
    const scope = trail.enabled ? scopes.getStore() : undefined;
    const status = reply.statusCode;
    if (scope && status >= 400 && !scope.denial) recordRefusal(scope, request, status, payload);
    describeOnLogLine(request, reply, status, payload, scope?.denial);
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
