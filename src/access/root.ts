// The root client (WARDEN_ROOT_CLIENT_ID) is the administrator: it passes every access check, policies or not.
import type { Identity } from '../authn/identity.ts';
import type { AppContext } from '../context.ts';

/** True for the root client acting as itself, not on behalf of a user. */
export function isRoot(ctx: AppContext, identity: Identity | null): boolean {
  return !!identity && !!ctx.config.rootClient && identity.client.id === ctx.config.rootClient.id && !identity.user;
}
