// What a Client may register as a redirect URI (RFC 6749 §3.1.2, RFC 9700 §4.1, OWASP ASVS 5.0 V10.4.1).
// Matching stays exact; this refuses on write what no exact match should ever lead to: a script or inline
// document, a fragment (§3.1.2), credentials in the URI, or characters that browsers and parsers read
// differently (backslashes, controls, spaces, non-ASCII).
import { badRequest } from '../fhir/outcome.ts';
import type { Resource } from '../store/resource-store.ts';

const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:']);

/** Why `uri` cannot be a redirect URI, or null when it can. */
export function redirectUriProblem(uri: string): string | null {
  if (/[^\x21-\x7e]/.test(uri)) return 'has a control character, a space or a non-ASCII character (percent-encode it)';
  if (uri.includes('\\')) return 'has a backslash';
  if (uri.includes('#')) return 'has a fragment (RFC 6749 §3.1.2)';
  if (!URL.canParse(uri)) return 'is not an absolute URI';
  const url = new URL(uri);
  if (FORBIDDEN_SCHEMES.has(url.protocol.toLowerCase())) return `uses the ${url.protocol} scheme`;
  if (url.username !== '' || url.password !== '') return 'has user information (user:password@)';
  return null;
}

/** Each registered redirect URI with the field it sits in: the comma-separated top level, and auth.<grant>. */
function registered(client: Resource): [string, string][] {
  const found: [string, string][] = [];
  if (typeof client.redirect_uri === 'string') {
    client.redirect_uri.split(',').forEach((uri, i) => found.push([`Client.redirect_uri[${i}]`, uri.trim()]));
  }
  const auth = (client.auth ?? {}) as Record<string, { redirect_uri?: unknown } | undefined>;
  for (const [grant, settings] of Object.entries(auth)) {
    const value = settings?.redirect_uri;
    if (typeof value === 'string') found.push([`Client.auth.${grant}.redirect_uri`, value]);
    if (Array.isArray(value)) value.forEach((uri, i) => typeof uri === 'string' && found.push([`Client.auth.${grant}.redirect_uri[${i}]`, uri]));
  }
  return found.filter(([, uri]) => uri !== '');
}

/** Throws a 400 OperationOutcome naming the first redirect URI that may not be registered. */
export function checkRedirectUris(client: Resource): void {
  for (const [field, uri] of registered(client)) {
    const problem = redirectUriProblem(uri);
    if (problem) throw badRequest(`${field} ${problem}: "${uri.slice(0, 120).replace(/[^\x20-\x7e]/g, '?')}"`, 'value', [field]);
  }
}
