// Where the login page may send the browser afterwards: only back into an authorization request on this server,
// or to the two-factor settings page.
// Anything else would make the login page an open redirector.

// Printable ASCII only (what authorizeUrl writes): a CR/LF would split the Location header (CWE-113), and a
// character past U+00FF makes Node refuse to write it.
const AUTHORIZE_PATH = /^\/auth\/(?:authorize\?[\x21-\x22\x24-\x5b\x5d-\x7e]*|two-factor)$/;

export function safeReturnTo(value: unknown): string {
  return typeof value === 'string' && value.length <= 8192 && AUTHORIZE_PATH.test(value) ? value : '';
}

/** The authorization request as a URL to come back to after login, without what the login itself satisfies. */
export function authorizeUrl(params: Record<string, string>, drop: string[] = []): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (!drop.includes(name)) query.set(name, value);
  return `/auth/authorize?${query.toString()}`;
}
