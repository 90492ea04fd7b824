// Secrets and passwords are stored as scrypt hashes in Aidbox's format (that of lambdaworks' SCryptUtil):
//   $s0$<params hex>$<salt base64>$<derived key base64>,  params = log2(N) << 16 | r << 8 | p
// so a hash exported from Aidbox verifies here and the other way round.
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { badRequest } from '../fhir/outcome.ts';

const LOG2_N = 15;
const R = 8;
const P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/**
 * A stored hash names its own cost, and every login pays it: a hash asking for more than this is refused when
 * written (400) and never computed (OWASP ASVS 5.0 V11.4.2 wants a costly KDF, not one that starves the
 * server). Memory is 128·N·r bytes, the work 128·N·r·p: up to twice and four times Warden's own (2^15, 8, 1).
 */
const MAX_MEMORY = 64 * 2 ** 20;
const MAX_WORK = 128 * 2 ** 20;
const LIMITS_TEXT = 'N, r and p with 128·N·r at most 64 MiB and 128·N·r·p at most 128 MiB';

const HASH_PATTERN = /^\$s0\$([0-9a-f]{1,8})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

/**
 * scrypt runs on libuv's threadpool, which file access and DNS share. A small semaphore keeps a burst of
 * logins from occupying every thread there.
 */
class Semaphore {
  private waiting: (() => void)[] = [];
  private running = 0;
  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

let semaphore = new Semaphore(2);

export function setHashConcurrency(limit: number): void {
  semaphore = new Semaphore(limit);
}

function scrypt(secret: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return semaphore.run(
    () =>
      new Promise((resolve, reject) =>
        scryptCallback(secret, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key))),
      ),
  );
}

const memoryFor = (n: number, r: number) => 128 * n * r * 2;

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const n = 2 ** LOG2_N;
  const key = await scrypt(secret, salt, KEY_BYTES, { N: n, r: R, p: P, maxmem: memoryFor(n, R) });
  const params = ((LOG2_N << 16) | (R << 8) | P).toString(16);
  return `$s0$${params}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export function isSecretHash(value: string): boolean {
  return parseHash(value) !== null;
}

/**
 * What to store for `field` (a secret or password) written in plain or as a hash: a hash Warden verifies as it
 * is, plain text hashed. A value in the hash format ($s0$) that Warden would not verify is refused with 400.
 */
export async function storableSecretField(value: string, field: string): Promise<string> {
  if (isSecretHash(value)) return value;
  if (value.startsWith('$s0$')) {
    throw badRequest(`${field} is an scrypt hash ($s0$) that is malformed or asks for more work than allowed (${LIMITS_TEXT})`, 'invalid', [field]);
  }
  return hashSecret(value);
}

function parseHash(value: string) {
  const match = HASH_PATTERN.exec(value);
  if (!match) return null;
  const params = parseInt(match[1], 16);
  const log2n = params >> 16;
  const r = (params >> 8) & 0xff;
  const p = params & 0xff;
  const salt = Buffer.from(match[2], 'base64');
  const key = Buffer.from(match[3], 'base64');
  const memory = 128 * 2 ** log2n * r;
  if (log2n < 1 || r < 1 || p < 1 || memory > MAX_MEMORY || memory * p > MAX_WORK) return null;
  if (salt.length === 0 || key.length < 16) return null;
  return { n: 2 ** log2n, r, p, salt, key };
}

/** Checks `secret` against a stored hash in constant time; a malformed hash never matches. */
export async function verifySecret(secret: string, hash: string): Promise<boolean> {
  const parsed = parseHash(hash);
  if (!parsed) return false;
  const { n, r, p, salt, key } = parsed;
  const candidate = await scrypt(secret, salt, key.length, { N: n, r, p, maxmem: memoryFor(n, r) * p });
  return timingSafeEqual(candidate, key);
}
