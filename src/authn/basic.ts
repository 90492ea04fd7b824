// HTTP Basic authentication (RFC 7617) with a Client's id and secret, for Clients whose grant_types has "basic".
import { InvalidCredentials } from '../errors.ts';
import type { Identity } from './identity.ts';
import type { SecretChecker } from './secret-check.ts';

const fail = (reason: string) => new InvalidCredentials(reason, 'Basic');

/** Splits a Basic credential at its first colon: a client id has none, a secret may. */
export function decodeBasic(encoded: string): { id: string; secret: string } {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw fail('Malformed Basic credentials: not base64');
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw fail('Malformed Basic credentials: expected base64("client_id:client_secret")');
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** RFC 6749 §2.3.1 has clients form-encode id and secret before Basic encoding; many send them raw. */
export function formDecode(value: string): string | null {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

/** The (id, secret) readings of a Basic credential to try: as sent, then form-decoded when that differs. */
export function basicCandidates(id: string, secret: string): [string, string][] {
  const candidates: [string, string][] = [[id, secret]];
  const decodedId = formDecode(id);
  const decodedSecret = formDecode(secret);
  if (decodedId !== null && decodedSecret !== null && (decodedId !== id || decodedSecret !== secret)) {
    candidates.push([decodedId, decodedSecret]);
  }
  return candidates;
}

export class BasicAuthenticator {
  constructor(private readonly secrets: SecretChecker) {}

  /** Throws InvalidCredentials, or Throttled; each surface renders them. */
  async authenticate(encoded: string, address: string): Promise<Identity> {
    const { id, secret } = decodeBasic(encoded);
    const client = await this.secrets.verifyClientReadings(basicCandidates(id, secret), address);
    // A Client without the basic grant answers exactly like a wrong secret: the caller learns nothing about it.
    const grants = client?.grant_types;
    if (client && Array.isArray(grants) && grants.includes('basic')) return { method: 'basic', client };
    throw fail('Invalid client credentials');
  }
}
