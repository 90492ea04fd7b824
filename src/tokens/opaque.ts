// Opaque tokens: 256 random bits, handed out once and stored only as their SHA-256 hash, so a copy of the
// database holds no usable token. (A fast hash is right here, unlike for passwords: the input has full entropy.)
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../store/database.ts';

export function newOpaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** A JWS compact serialization has exactly two dots; an opaque token (base64url) has none. */
export function looksLikeJwt(token: string): boolean {
  return token.split('.').length === 3;
}

/** Whether Warden ever issued this opaque token (still stored: live, spent, or expired less than a day ago). */
export async function wasIssued(db: Queryable, token: string): Promise<boolean> {
  const rows = await db.query('select 1 from oauth_token where hash = $1', [tokenHash(token)]);
  return rows.length > 0;
}
