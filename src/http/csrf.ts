// CSRF tokens for every form (signed double submit, OWASP): the browser holds a random cookie, each form carries
// HMAC(key, cookie). A forged cross-site POST lacks the token; a planted cookie is useless without the key, which
// lives in the database so every server process accepts the forms of every other.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readCookies, setCookie } from './cookies.ts';
import type { Database } from '../store/database.ts';

export class Csrf {
  readonly cookieName: string;

  private constructor(
    private readonly key: Buffer,
    private readonly secure: boolean,
  ) {
    this.cookieName = secure ? '__Host-warden_csrf' : 'warden_csrf';
  }

  /** Loads the key, making it on first start; concurrent first starts agree on one key. */
  static async load(db: Database, baseUrl: string): Promise<Csrf> {
    await db.query(`insert into browser_secret (name, value) values ('csrf', $1) on conflict (name) do nothing`, [
      randomBytes(32).toString('base64'),
    ]);
    const [row] = await db.query<{ value: string }>(`select value from browser_secret where name = 'csrf'`);
    return new Csrf(Buffer.from(row.value, 'base64'), baseUrl.startsWith('https:'));
  }

  /** The token to put in a form, setting the cookie it is bound to when the browser has none yet. */
  issue(request: FastifyRequest, reply: FastifyReply): string {
    let seed = readCookies(request).get(this.cookieName);
    if (!seed || !/^[A-Za-z0-9_-]{43}$/.test(seed)) {
      seed = randomBytes(32).toString('base64url');
      setCookie(reply, this.cookieName, seed, { secure: this.secure });
    }
    return this.sign(seed);
  }

  /** True when the form's token was made for this browser's cookie. */
  verify(request: FastifyRequest, token: unknown): boolean {
    const seed = readCookies(request).get(this.cookieName);
    if (!seed || typeof token !== 'string') return false;
    const expected = Buffer.from(this.sign(seed));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private sign(seed: string): string {
    return createHmac('sha256', this.key).update('warden-csrf\0').update(seed).digest('base64url');
  }
}
