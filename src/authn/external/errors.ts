// The one way an external token is refused: 401 with the same RFC 6750 §3 challenge as Warden's own tokens.
import { unauthorized } from '../../fhir/outcome.ts';
import { bearerChallenge } from '../bearer.ts';

export function invalidToken(description: string) {
  return unauthorized(description, bearerChallenge('invalid_token', description));
}
