// The redirect URI must be one the client registered, compared as exact strings (RFC 6749 §3.1.2.3; RFC 9700
// §4.1.3: no prefix, pattern or normalised matching). A mismatch is shown on a page, never redirected to.
import { clientModel } from '../../iam/client-model.ts';
import { redirectUriProblem } from '../../iam/redirect-uris.ts';
import type { Resource } from '../../store/resource-store.ts';
import { onPage } from './authorize-error.ts';
import type { AuthorizeParams } from './params.ts';

const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?([/?].*)?$/;

/**
 * RFC 8252 §7.3: a native app listening on a loopback IP literal gets an ephemeral port from the OS, so the
 * authorization server MUST allow any port there. Only the port may differ; scheme, host, path and query must
 * match as strings. `localhost` is not included: §8.3 advises against it, since it may resolve elsewhere.
 */
function matchesLoopback(registered: string, requested: string): boolean {
  const a = LOOPBACK.exec(registered);
  const b = LOOPBACK.exec(requested);
  return a !== null && b !== null && a[1] === b[1] && (a[3] ?? '') === (b[3] ?? '');
}

export function redirectUriMatches(registered: string, requested: string): boolean {
  return registered === requested || matchesLoopback(registered, requested);
}

/**
 * A registered URI the write rule would refuse today (stored before it, or straight into the database) is not
 * followed either: a fragment could never carry the response (RFC 6749 §3.1.2), a javascript: URI would run.
 */
function followable(redirectUri: string, given: boolean): { redirectUri: string; given: boolean } {
  const problem = redirectUriProblem(redirectUri);
  if (problem) throw onPage('invalid_request', `The registered redirect URI ${problem}`);
  return { redirectUri, given };
}

/** Returns the redirect URI to answer at, and whether the request named it (then the code exchange must too). */
export function checkRedirectUri(client: Resource, params: AuthorizeParams): { redirectUri: string; given: boolean } {
  if (params.repeated.includes('redirect_uri')) throw onPage('invalid_request', 'redirect_uri is repeated');
  const registered = clientModel(client).registeredRedirectUris(params.values.response_type);
  const requested = params.values.redirect_uri;
  if (requested === undefined || requested === '') {
    // RFC 6749 §3.1.2.3: the parameter may be left out only when exactly one URI is registered.
    if (registered.length === 1) return followable(registered[0], false);
    throw onPage(
      'invalid_request',
      registered.length === 0
        ? 'This application has no registered redirect URI'
        : 'redirect_uri is missing, and the application registered more than one',
    );
  }
  if (!registered.some((uri) => redirectUriMatches(uri, requested))) {
    throw onPage('invalid_request', 'redirect_uri is not registered for this application');
  }
  return followable(requested, true);
}
