// Secrets Warden must be able to use again (an IdentityProvider's client secret, a User's TOTP key) cannot be
// hashed, so they are sealed: AES-256-GCM with a key that lives only in the database's `browser_secret` table,
// which no API and no SQL policy reads. The API returns the sealed form, useless without the key; a sealed value
// written back (a PUT of what was read) is kept as is.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Database } from '../store/database.ts';

const PREFIX = 'sealed:v1:';
const keys = new WeakMap<Database, Promise<Buffer>>();

/** The sealing key, made on first use; concurrent first uses agree on one key. */
function sealingKey(db: Database): Promise<Buffer> {
  let key = keys.get(db);
  if (!key) {
    key = (async () => {
      await db.query(`insert into browser_secret (name, value) values ('seal', $1) on conflict (name) do nothing`, [randomBytes(32).toString('base64')]);
      const [row] = await db.query<{ value: string }>(`select value from browser_secret where name = 'seal'`);
      return Buffer.from(row.value, 'base64');
    })();
    key.catch(() => keys.delete(db));
    keys.set(db, key);
  }
  return key;
}

export const isSealed = (value: unknown): value is string => typeof value === 'string' && value.startsWith(PREFIX);

export async function seal(db: Database, plaintext: string): Promise<string> {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', await sealingKey(db), iv);
  const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${PREFIX}${[iv, sealed, cipher.getAuthTag()].map((part) => part.toString('base64url')).join('.')}`;
}

/** The plaintext, or null when the value was not sealed by this database's key (copied from elsewhere, altered). */
export async function unseal(db: Database, value: string): Promise<string | null> {
  if (!isSealed(value)) return null;
  const [iv, sealed, tag] = value.slice(PREFIX.length).split('.').map((part) => Buffer.from(part, 'base64url'));
  if (!iv || !sealed || !tag || iv.length !== 12 || tag.length !== 16) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', await sealingKey(db), iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
