// The scope of a token request (RFC 6749 §3.3): well formed, and within what the Client may ask for.
import { narrowToAllowed, parseScopes, scopesBeyond, ScopeError, type Scope } from '../smart/scopes.ts';
import { clientModel } from '../iam/client-model.ts';
import type { Resource } from '../store/resource-store.ts';
import { invalidScope } from './errors.ts';

/** scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), tokens separated by one space. */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;

/**
 * The scope to grant. When the Client lists `scope`, a request may only ask for those, and one that asks for
 * none gets all of them; a Client without a list is not limited here (authorization limits it later).
 */
export function grantedScope(client: Resource, requested: string | undefined): string | undefined {
  const allowed = clientModel(client).allowedScopes;
  if (requested === undefined) return allowed && allowed.length > 0 ? allowed.join(' ') : undefined;
  if (!SCOPE.test(requested)) throw invalidScope('The scope is malformed: scope tokens separated by single spaces');
  const scopes = smartScopes(requested);
  if (!allowed) return scopes.map((scope) => scope.raw).join(' ');
  // SMART resource scopes are narrowed to what the Client allows; anything else must be listed.
  const { granted, refused } = narrowToAllowed(scopes, smartScopes(allowed.join(' ')));
  if (refused.length > 0) throw invalidScope(`The client may not request scope ${refused.map((scope) => `"${scope.raw.slice(0, 64)}"`).join(', ')}`);
  return granted.map((scope) => scope.raw).join(' ');
}

function smartScopes(text: string): Scope[] {
  try {
    return parseScopes(text);
  } catch (error) {
    if (error instanceof ScopeError) throw invalidScope(error.message);
    throw error;
  }
}

/** SMART Backend Services: a client acting on its own behalf has no patient or user to scope to. */
export function refuseUserContextScopes(scope: string | undefined): void {
  const refused = smartScopes(scope ?? '').filter((s) => s.kind === 'resource' && s.context !== 'system');
  if (refused.length > 0) {
    throw invalidScope(`client_credentials tokens have no patient or user: use system/ scopes instead of ${refused.map((s) => `"${s.raw.slice(0, 64)}"`).join(', ')}`);
  }
}

/** A refresh may narrow the scope, never widen it (RFC 6749 §6). */
export function narrowedScope(original: string | undefined, requested: string | undefined): string | undefined {
  if (requested === undefined) return original;
  if (!SCOPE.test(requested)) throw invalidScope('The scope is malformed: scope tokens separated by single spaces');
  // Within the original grant: the same scopes, or SMART scopes narrower than granted ones (SMART App Launch).
  const wider = scopesBeyond(smartScopes(requested), smartScopes(original ?? ''));
  if (wider.length > 0) throw invalidScope(`Scope ${wider.map((scope) => `"${scope.raw.slice(0, 64)}"`).join(', ')} was not granted originally`);
  return [...new Set(requested.split(' '))].join(' ');
}
