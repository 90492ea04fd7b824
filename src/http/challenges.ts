// The WWW-Authenticate challenges (RFC 7235 §4.1) Warden answers a refused caller with: Basic (RFC 7617) for
// Client credentials, Bearer (RFC 6750 §3) for access tokens.
import type { InvalidCredentials } from '../errors.ts';

export const BASIC_CHALLENGE = 'Basic realm="warden", charset="UTF-8"';

/** RFC 6750 §3: the challenge with no error code, for a request that sent no credentials. */
export const BEARER_CHALLENGE = 'Bearer realm="warden"';

/** RFC 6750 §3: error_description is a quoted-string of printable ASCII other than `"` and `\`. */
export function bearerChallenge(error: string, description: string): string {
  const safe = description.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, ' ');
  return `${BEARER_CHALLENGE}, error="${error}", error_description="${safe}"`;
}

/** The challenge for refused credentials: a refused token says why (RFC 6750 §3.1 invalid_token). */
export function challengeFor(refusal: InvalidCredentials): string {
  switch (refusal.scheme) {
    case 'Basic':
      return BASIC_CHALLENGE;
    case 'Bearer':
      return bearerChallenge('invalid_token', refusal.message);
    case 'Basic or Bearer':
      return `${BASIC_CHALLENGE}, ${BEARER_CHALLENGE}`;
  }
}
