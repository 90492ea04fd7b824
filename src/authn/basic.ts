// HTTP Basic authentication (RFC 7617) with a Client's id and secret, for Clients whose grant_types has "basic".
import { createHmac, randomBytes } from 'node:crypto';
import { hashSecret, verifySecret } from '../iam/password-hash.ts';
import { unauthorized } from '../resources/outcome.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import type { Identity } from './identity.ts';

export const BASIC_CHALLENGE = 'Basic realm="warden", charset="UTF-8"';
const CACHE_LIMIT = 10_000;

const fail = (reason: string) => unauthorized(reason, BASIC_CHALLENGE);

/** Splits a Basic credential at its first colon: a client id has none, a secret may. */
export function decodeBasic(encoded: string): { id: string; secret: string } {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw fail('Malformed Basic credentials: not base64');
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw fail('Malformed Basic credentials: expected base64("client_id:client_secret")');
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** RFC 6749 §2.3.1 has clients form-encode id and secret before Basic encoding; many send them raw. */
function formDecode(value: string): string | null {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

export class BasicAuthenticator {
  /**
   * Secrets already verified, so the KDF runs once per secret, not per request. Keyed by an HMAC of id and
   * secret under a key that never leaves this process; the value is the stored hash they matched, so a
   * changed secret or deleted client misses the cache at once, in every process.
   */
  private verified = new Map<string, string>();
  private readonly cacheKey = randomBytes(32);
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly resources: ResourceStore) {}

  async authenticate(encoded: string): Promise<Identity> {
    const { id, secret } = decodeBasic(encoded);
    const decodedId = formDecode(id);
    const decodedSecret = formDecode(secret);
    const attempts: [string, string][] = [[id, secret]];
    if (decodedId !== null && decodedSecret !== null && (decodedId !== id || decodedSecret !== secret)) {
      attempts.push([decodedId, decodedSecret]);
    }
    for (const [clientId, clientSecret] of attempts) {
      const client = await this.verify(clientId, clientSecret);
      if (client) return { method: 'basic', client };
    }
    throw fail('Invalid client credentials');
  }

  private async verify(clientId: string, secret: string) {
    const current = await this.resources.read('Client', clientId);
    const client = current && !current.deleted ? current.resource : null;
    const hash = typeof client?.secret === 'string' ? client.secret : null;
    if (!client || !hash) {
      // Spend the same time as a real check, so an unknown id cannot be told from a wrong secret.
      await verifySecret(secret, await this.dummy());
      return null;
    }
    const key = createHmac('sha256', this.cacheKey).update(clientId).update('\0').update(secret).digest('base64');
    const ok = this.verified.get(key) === hash || (await verifySecret(secret, hash));
    if (!ok) return null;
    this.remember(key, hash);
    const grants = client.grant_types;
    if (!Array.isArray(grants) || !grants.includes('basic')) return null;
    return client;
  }

  private remember(key: string, hash: string) {
    this.verified.delete(key);
    this.verified.set(key, hash);
    if (this.verified.size > CACHE_LIMIT) this.verified.delete(this.verified.keys().next().value!);
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashSecret(randomBytes(16).toString('hex'));
    return this.dummyHash;
  }
}
