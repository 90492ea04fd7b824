// Who is calling, as established by one of the authenticators.
import type { Resource } from '../store/resource-store.ts';

export interface Identity {
  method: 'basic' | 'bearer';
  client: Resource;
  user?: Resource;
}

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity | null;
  }
  interface FastifyContextConfig {
    /** Open to anyone: no credentials needed, and none are checked. */
    public?: boolean;
  }
}
