// Authorization codes (RFC 6749 §4.1.2): random, short-lived, single use, stored only as SHA-256 hashes, and
// bound to the client, redirect URI, PKCE challenge and browser session they were issued for.
import { createHash, randomBytes } from 'node:crypto';
import type { LaunchContext } from '../../smart/launch-contexts.ts';
import type { Database } from '../../store/database.ts';

/** RFC 6749 §4.1.2 recommends at most 10 minutes; a real exchange takes a second. */
export const CODE_LIFETIME_SECONDS = 60;

export interface CodeRecord {
  clientId: string;
  userId: string;
  /** The redirect URI the code was sent to. */
  redirectUri: string;
  /** The request named the redirect URI, so the exchange must name the same one (RFC 6749 §4.1.3). */
  redirectUriRequired: boolean;
  scope: string;
  codeChallenge: string | null;
  nonce: string | null;
  sid: string;
  authTime: Date;
  /** SMART: the launch context (patient, encounter, ...) the token will carry. */
  launchContext?: LaunchContext;
}

export interface StoredCode extends CodeRecord {
  expired: boolean;
  used: boolean;
  issuedSession: string | null;
}

interface CodeRow {
  client_id: string;
  user_id: string;
  redirect_uri: string;
  redirect_uri_required: boolean;
  scope: string;
  code_challenge: string | null;
  nonce: string | null;
  sid: string;
  auth_time: Date | string;
  expired: boolean;
  used: boolean;
  issued_session: string | null;
  launch_context: LaunchContext | string | null;
  [key: string]: unknown;
}

const hashCode = (code: string) => createHash('sha256').update(code).digest('base64url');

export class AuthorizationCodes {
  constructor(private readonly db: Database) {}

  async create(record: CodeRecord): Promise<string> {
    const code = randomBytes(32).toString('base64url');
    await this.db.query(
      `insert into authorization_code (code_hash, client_id, user_id, redirect_uri, redirect_uri_required, scope,
         code_challenge, nonce, sid, auth_time, expires_at, launch_context)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now() + make_interval(secs => $11), $12::text::jsonb)`,
      [
        hashCode(code), record.clientId, record.userId, record.redirectUri, record.redirectUriRequired, record.scope,
        record.codeChallenge, record.nonce, record.sid, record.authTime.toISOString(), CODE_LIFETIME_SECONDS,
        record.launchContext ? JSON.stringify(record.launchContext) : null,
      ],
    );
    // Expired codes are swept as new ones are made; a used code is kept until then, to recognise its replay.
    await this.db.query(`delete from authorization_code where expires_at < now() - interval '1 hour'`);
    return code;
  }

  async find(code: string): Promise<StoredCode | null> {
    if (code.length > 200) return null;
    const [row] = await this.db.query<CodeRow>(
      `select client_id, user_id, redirect_uri, redirect_uri_required, scope, code_challenge, nonce, sid, auth_time, issued_session,
              launch_context, expires_at <= now() as expired, used_at is not null as used
       from authorization_code where code_hash = $1`,
      [hashCode(code)],
    );
    if (!row) return null;
    return {
      clientId: row.client_id,
      userId: row.user_id,
      redirectUri: row.redirect_uri,
      redirectUriRequired: row.redirect_uri_required,
      scope: row.scope,
      codeChallenge: row.code_challenge,
      nonce: row.nonce,
      sid: row.sid,
      authTime: new Date(row.auth_time),
      expired: row.expired,
      used: row.used,
      issuedSession: row.issued_session,
      ...(row.launch_context && {
        launchContext: typeof row.launch_context === 'string' ? (JSON.parse(row.launch_context) as LaunchContext) : row.launch_context,
      }),
    };
  }

  /** Marks the code used; true only for the one caller that got there first, however many race. */
  async consume(code: string): Promise<boolean> {
    const rows = await this.db.query(
      `update authorization_code set used_at = now() where code_hash = $1 and used_at is null and expires_at > now() returning 1`,
      [hashCode(code)],
    );
    return rows.length === 1;
  }

  /** Records the Session the exchange created, so a replay of the code can end it. */
  async recordIssued(code: string, sessionId: string): Promise<void> {
    await this.db.query('update authorization_code set issued_session = $2 where code_hash = $1', [hashCode(code), sessionId]);
  }
}
