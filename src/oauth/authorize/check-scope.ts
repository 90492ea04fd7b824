// scope (RFC 6749 §3.3): space-separated tokens of printable ASCII without `"` and `\`. When the client lists the
// scopes it may have (`Client.scope`), asking for another one is invalid_scope, and asking for none gets them all.
// SMART resource scopes are narrowed to what the list allows rather than refused (src/smart/scopes.ts).
import { narrowToAllowed, parseScopes, ScopeError } from '../../smart/scopes.ts';
import { clientModel } from '../../iam/client-model.ts';
import type { Resource } from '../../store/resource-store.ts';
import { toClient } from './authorize-error.ts';
import type { AuthorizeParams } from './params.ts';

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function parseScope(value: string | undefined): string[] {
  return [...new Set((value ?? '').split(' ').filter(Boolean))];
}

export function checkScope(client: Resource, params: AuthorizeParams): string[] {
  const scopes = parseScope(params.values.scope);
  const bad = scopes.find((scope) => !SCOPE_TOKEN.test(scope));
  if (bad !== undefined) throw toClient('invalid_scope', 'scope contains a character RFC 6749 §3.3 does not allow');
  const allowed = clientModel(client).allowedScopes;
  // RFC 6749 §3.3: no scope asked for means the server's default, here (as at the token endpoint) the Client's list.
  if (scopes.length === 0 && allowed) return [...allowed];
  try {
    const requested = parseScopes(scopes.join(' '));
    if (!allowed) return scopes;
    // SMART resource scopes are narrowed to what the Client allows; others must be listed.
    const { granted, refused } = narrowToAllowed(requested, parseScopes(allowed.join(' ')));
    if (refused.length > 0) throw toClient('invalid_scope', `scope "${refused[0].raw.slice(0, 80)}" is not allowed for this client`);
    return granted.map((scope) => scope.raw);
  } catch (error) {
    if (error instanceof ScopeError) throw toClient('invalid_scope', error.message);
    throw error;
  }
}
