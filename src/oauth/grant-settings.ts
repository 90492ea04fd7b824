// The audience of a token a grant issues (RFC 8693 §2.1, Aidbox's `auth.<grant>.audience`). A Client's grant
// settings themselves are read by its model (src/iam/client-model.ts).
import type { GrantSettings } from '../iam/client-model.ts';

/**
 * The token's audience: the `audience` parameter, else the grant's setting, else this server. A grant with
 * an audience setting only issues tokens for it.
 */
export function tokenAudience(settings: GrantSettings, requested: string | undefined, ownUrl: string, fail: (message: string) => Error): string {
  if (requested === undefined) return settings.audience ?? ownUrl;
  if (settings.audience !== undefined && requested !== settings.audience) {
    throw fail(`This client's tokens are for audience "${settings.audience}" only`);
  }
  // RFC 8693 §2.1: an audience is a logical name (a URI, or a client id of a resource server), not free text.
  if (!/^[\x21-\x7e]{1,2000}$/.test(requested)) throw fail('audience must be a URI or a name without spaces');
  return requested;
}
