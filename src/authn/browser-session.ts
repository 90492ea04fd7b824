// The browser session: who is logged in to Warden's own pages. A random cookie value identifies it; the store
// keeps only its SHA-256, so a copy of the database cannot be used to ride a session.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { clearCookie, readCookies, setCookie } from '../http/cookies.ts';
import type { Database } from '../store/database.ts';

export interface BrowserSession {
  /** Public id of the session: the `sid` claim of ID tokens; tokens issued in it are ended with it. */
  sid: string;
  userId: string;
  authTime: Date;
  expiresAt: Date;
}

interface SessionRow {
  sid: string;
  user_id: string;
  auth_time: Date | string;
  expires_at: Date | string;
  [key: string]: unknown;
}

const hash = (value: string) => createHash('sha256').update(value).digest('base64url');

export class BrowserSessions {
  /** `__Host-` keeps a sibling subdomain from planting the cookie (RFC 6265bis §4.1.3.2); it needs https. */
  readonly cookieName: string;
  private readonly secure: boolean;

  constructor(
    private readonly db: Database,
    private readonly config: Pick<Config, 'baseUrl' | 'browserSessionSeconds'>,
  ) {
    this.secure = config.baseUrl.startsWith('https:');
    this.cookieName = this.secure ? '__Host-warden_session' : 'warden_session';
  }

  /** The live session the request's cookie names, or null. */
  async current(request: FastifyRequest): Promise<BrowserSession | null> {
    const value = readCookies(request).get(this.cookieName);
    if (!value || value.length > 100) return null;
    const [row] = await this.db.query<SessionRow>(
      `select sid, user_id, auth_time, expires_at from browser_session
       where id_hash = $1 and ended_at is null and expires_at > now()`,
      [hash(value)],
    );
    return row ? toSession(row) : null;
  }

  /**
   * Starts a session for a user who has just proved who they are. Always a new id (never the one the browser
   * brought, against session fixation), and any session that cookie named is ended: it is returned as `replaced`.
   */
  async start(request: FastifyRequest, reply: FastifyReply, userId: string): Promise<{ session: BrowserSession; replaced: BrowserSession | null }> {
    const replaced = await this.end(request, reply);
    const value = randomBytes(32).toString('base64url');
    const sid = randomBytes(16).toString('base64url');
    const [row] = await this.db.query<SessionRow>(
      `insert into browser_session (id_hash, sid, user_id, auth_time, expires_at)
       values ($1, $2, $3, now(), now() + make_interval(secs => $4)) returning sid, user_id, auth_time, expires_at`,
      [hash(value), sid, userId, this.config.browserSessionSeconds],
    );
    setCookie(reply, this.cookieName, value, { secure: this.secure, maxAge: this.config.browserSessionSeconds });
    return { session: toSession(row), replaced };
  }

  /** Ends the session the request's cookie names, if any, and clears the cookie. Returns what was ended. */
  async end(request: FastifyRequest, reply: FastifyReply): Promise<BrowserSession | null> {
    const value = readCookies(request).get(this.cookieName);
    if (!value) return null;
    clearCookie(reply, this.cookieName, { secure: this.secure });
    const [row] = await this.db.query<SessionRow>(
      `update browser_session set ended_at = now() where id_hash = $1 and ended_at is null
       returning sid, user_id, auth_time, expires_at`,
      [hash(value)],
    );
    return row ? toSession(row) : null;
  }
}

/**
 * When the browser session `sid` ends (epoch seconds), or null when it has ended already (logout, a new
 * sign-in, or its time ran out): the most a token tied to the sign-in may live.
 */
export async function browserSessionEnd(db: Database, sid: string): Promise<number | null> {
  const [row] = await db.query<{ ends: number | string }>(
    `select extract(epoch from expires_at)::bigint as ends from browser_session
     where sid = $1 and ended_at is null and expires_at > now()`,
    [sid],
  );
  return row ? Number(row.ends) : null;
}

function toSession(row: SessionRow): BrowserSession {
  return { sid: row.sid, userId: row.user_id, authTime: new Date(row.auth_time), expiresAt: new Date(row.expires_at) };
}
