// Reading the Cookie header and writing Set-Cookie (RFC 6265), for the browser pages' own cookies.
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface CookieOptions {
  /** Seconds; 0 deletes the cookie. Absent: a session cookie. */
  maxAge?: number;
  path?: string;
  secure: boolean;
}

/** The first value of each cookie; a value that is not valid percent-encoding is taken as is. */
export function readCookies(request: FastifyRequest): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (cookies.has(name)) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      value = decodeURIComponent(value);
    } catch {
      // keep the raw value
    }
    cookies.set(name, value);
  }
  return cookies;
}

/**
 * Every cookie Warden sets is HttpOnly (no script reads it) and SameSite=Lax (not sent on cross-site POSTs or
 * subresource loads, still sent on the top-level navigation that brings the user back from a client).
 */
export function setCookie(reply: FastifyReply, name: string, value: string, options: CookieOptions): void {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${options.path ?? '/'}`, 'HttpOnly', 'SameSite=Lax'];
  if (options.maxAge !== undefined) parts.push(`Max-Age=${options.maxAge}`);
  if (options.secure) parts.push('Secure');
  const existing = reply.getHeader('set-cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  reply.header('set-cookie', [...list.filter((cookie) => !cookie.startsWith(`${name}=`)), parts.join('; ')]);
}

export function clearCookie(reply: FastifyReply, name: string, options: Omit<CookieOptions, 'maxAge'>): void {
  setCookie(reply, name, '', { ...options, maxAge: 0 });
}
