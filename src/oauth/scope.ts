// The scope of a token request (RFC 6749 §3.3): well formed, and within what the Client may ask for.
import type { Resource } from '../store/resource-store.ts';
import { invalidScope } from './errors.ts';

/** scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), tokens separated by one space. */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;

/**
 * The scope to grant. When the Client lists `scope`, a request may only ask for those, and one that asks for
 * none gets all of them; a Client without a list is not limited here (authorization limits it later).
 */
export function grantedScope(client: Resource, requested: string | undefined): string | undefined {
  const allowed = Array.isArray(client.scope) ? (client.scope as string[]) : undefined;
  if (requested === undefined) return allowed && allowed.length > 0 ? allowed.join(' ') : undefined;
  if (!SCOPE.test(requested)) throw invalidScope('The scope is malformed: scope tokens separated by single spaces');
  const scopes = [...new Set(requested.split(' '))];
  if (allowed) {
    const refused = scopes.filter((scope) => !allowed.includes(scope));
    if (refused.length > 0) throw invalidScope(`The client may not request scope ${refused.map((scope) => `"${scope.slice(0, 64)}"`).join(', ')}`);
  }
  return scopes.join(' ');
}

/** A refresh may narrow the scope, never widen it (RFC 6749 §6). */
export function narrowedScope(original: string | undefined, requested: string | undefined): string | undefined {
  if (requested === undefined) return original;
  if (!SCOPE.test(requested)) throw invalidScope('The scope is malformed: scope tokens separated by single spaces');
  const granted = new Set((original ?? '').split(' ').filter(Boolean));
  const scopes = [...new Set(requested.split(' '))];
  const wider = scopes.filter((scope) => !granted.has(scope));
  if (wider.length > 0) throw invalidScope(`Scope ${wider.map((scope) => `"${scope.slice(0, 64)}"`).join(', ')} was not granted originally`);
  return scopes.join(' ');
}
