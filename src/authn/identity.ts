// Who is calling, as established by one of the authenticators.
import type { Resource } from '../store/resource-store.ts';

export interface Identity {
  /** How the caller proved who they are. */
  method: 'basic' | 'bearer' | 'external-jwt' | 'external-opaque' | 'browser-session';
  /** The application calling; every identity has one. */
  client: Resource;
  /** The person on whose behalf it calls, when there is one. */
  user?: Resource;
  /** The Session resource a token belongs to. */
  session?: Resource;
  /** Claims of the JWT used, Warden's own or an external provider's. */
  jwt?: Record<string, unknown>;
  /** The RFC 7662 answer for an external opaque token; policies see it as `token`. */
  introspection?: Record<string, unknown>;
  /** Scopes granted to the token used, when it was a token. */
  scopes?: string[];
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
