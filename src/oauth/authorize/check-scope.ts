// scope (RFC 6749 §3.3): space-separated tokens of printable ASCII without `"` and `\`. When the client lists the
// scopes it may have (`Client.scope`), asking for another one is invalid_scope.
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
  const allowed = client.scope;
  if (Array.isArray(allowed)) {
    const extra = scopes.find((scope) => !allowed.includes(scope));
    if (extra !== undefined) throw toClient('invalid_scope', `scope "${extra.slice(0, 80)}" is not allowed for this client`);
  }
  return scopes;
}
