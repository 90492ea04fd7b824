// The audit scope of one request: who is calling, and the events the request gave rise to. It travels with the
// request's asynchronous work (AsyncLocalStorage), so the authorize step and the confined store view record
// what they do without every handler passing it on, and a Bundle's entries are audited like single requests.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyRequest } from 'fastify';
import { maskUrl } from '../log.ts';
import { fhirUserReference } from '../iam/user.ts';
import type { Actor, AuditEventResource } from './event.ts';
import type { AuditTrail } from './trail.ts';

export interface AuditScope {
  trail: AuditTrail;
  request: FastifyRequest;
  events: AuditEventResource[];
  /** Why the request was refused, when it was: for the request's log line. */
  denial?: string;
}

/** The requests' scopes; opened and closed by the hooks in hooks.ts. */
export const scopes = new AsyncLocalStorage<AuditScope>();

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
    ...(request.access && request.access.by !== 'public' && { allowedBy: request.access.by }),
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
