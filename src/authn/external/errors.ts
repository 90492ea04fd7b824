// The one way an external token is refused: 401 with an RFC 6750 §3 challenge naming the reason.
import { unauthorized } from '../../resources/outcome.ts';

/** RFC 6750 §3: the description is a quoted-string, so quotes and backslashes cannot appear in it. */
function quoted(text: string): string {
  return text.replace(/["\\\r\n]/g, "'");
}

export function invalidToken(description: string) {
  return unauthorized(
    description,
    `Bearer realm="warden", error="invalid_token", error_description="${quoted(description)}"`,
  );
}
