// The one way an external token is refused: InvalidToken, rendered with the same RFC 6750 §3 challenge as
// Warden's own tokens.
import { InvalidToken } from '../../errors.ts';

export function invalidToken(description: string) {
  return new InvalidToken(description);
}
