// Refresh tokens: opaque, stored as hashes, used once. Each use gives a new one in the same session
// (rotation); using an already used one is taken as theft, and ends the whole session (RFC 9700 §4.14.2).
import type { Database } from '../store/database.ts';
import { seconds, type Clock } from './access-token.ts';
import { newOpaqueToken, tokenHash } from './opaque.ts';

/** What a refresh token carries forward into the tokens it is exchanged for. */
export interface RefreshClaims {
  grant: string;
  sub: string;
  user_id?: string;
  aud: string;
  scope?: string;
}

export type RefreshUse =
  | { outcome: 'valid'; sessionId: string; clientId: string; claims: RefreshClaims; expiresAt: number }
  | { outcome: 'reused'; sessionId: string; clientId: string }
  | { outcome: 'invalid' };

interface RefreshRow {
  session_id: string;
  client_id: string;
  claims: RefreshClaims | string;
  expires_at: number | string;
  used_at: unknown;
  expired: boolean;
  [column: string]: unknown;
}

const parse = (claims: RefreshClaims | string): RefreshClaims =>
  typeof claims === 'string' ? (JSON.parse(claims) as RefreshClaims) : claims;

export class RefreshTokens {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async issue(sessionId: string, clientId: string, claims: RefreshClaims, expiresAt: number): Promise<string> {
    const token = newOpaqueToken();
    await this.db.query(
      `insert into oauth_token (hash, kind, session_id, client_id, claims, expires_at)
       values ($1, 'refresh', $2, $3, $4::text::jsonb, to_timestamp($5))`,
      [tokenHash(token), sessionId, clientId, JSON.stringify(claims), expiresAt],
    );
    return token;
  }

  /**
   * Marks the token used, atomically: of two concurrent uses of one token exactly one is 'valid'. Only the
   * client it was issued to can use it (RFC 6749 §6); another client's attempt changes nothing.
   */
  async use(token: string, clientId: string): Promise<RefreshUse> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return { outcome: 'invalid' };
    const hash = tokenHash(token);
    const now = seconds(this.clock);
    const [used] = await this.db.query<RefreshRow>(
      `update oauth_token set used_at = now()
       where hash = $1 and kind = 'refresh' and used_at is null and expires_at > to_timestamp($2) and client_id = $3
       returning session_id, client_id, claims, extract(epoch from expires_at)::bigint as expires_at, used_at, false as expired`,
      [hash, now, clientId],
    );
    if (used) {
      return { outcome: 'valid', sessionId: used.session_id, clientId: used.client_id, claims: parse(used.claims), expiresAt: Number(used.expires_at) };
    }
    const [row] = await this.db.query<RefreshRow>(
      `select session_id, client_id, used_at from oauth_token where hash = $1 and kind = 'refresh'`,
      [hash],
    );
    if (row && row.client_id === clientId && row.used_at !== null) return { outcome: 'reused', sessionId: row.session_id, clientId: row.client_id };
    return { outcome: 'invalid' };
  }

  /** Whose token this is, used or not: for revocation. */
  async owner(token: string): Promise<{ sessionId: string; clientId: string } | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const [row] = await this.db.query<RefreshRow>(`select session_id, client_id from oauth_token where hash = $1 and kind = 'refresh'`, [
      tokenHash(token),
    ]);
    return row ? { sessionId: row.session_id, clientId: row.client_id } : null;
  }

  /** For introspection: the claims of a live, unused refresh token. */
  async peek(token: string): Promise<{ sessionId: string; clientId: string; claims: RefreshClaims; expiresAt: number } | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const [row] = await this.db.query<RefreshRow>(
      `select session_id, client_id, claims, extract(epoch from expires_at)::bigint as expires_at from oauth_token
       where hash = $1 and kind = 'refresh' and used_at is null and expires_at > to_timestamp($2)`,
      [tokenHash(token), seconds(this.clock)],
    );
    return row ? { sessionId: row.session_id, clientId: row.client_id, claims: parse(row.claims), expiresAt: Number(row.expires_at) } : null;
  }
}
