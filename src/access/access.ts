// What the authorize step (src/access/authorize.ts) leaves on a request, for everything after it to use.
import type { FastifyRequest } from 'fastify';
import type { Confinement } from './confined-resources.ts';

/** What the authorize step allowed: who allowed it, and what the caller may see. */
export interface Access {
  by: 'public' | 'root' | `policy ${string}`;
  /** null: nothing confines the caller beyond the request itself. */
  confinement: Confinement | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authorize step; null before it (or on a route it does not cover). */
    access: Access | null;
  }
}

/** The access the authorize step left on a request; a handler reached without it is a wiring bug: fail closed. */
export function accessOf(request: FastifyRequest): Access {
  if (!request.access) throw new Error(`${request.method} ${request.routeOptions.url ?? request.url} was not authorized`);
  return request.access;
}
