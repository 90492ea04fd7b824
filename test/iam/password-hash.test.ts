import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { hashSecret, isSecretHash, verifySecret } from '../../src/iam/password-hash.ts';

// The seed's sample responses (Aidbox docs): the Client "web-app" with secret "client-secret",
// and the User "admin" with password "long-user-password", as Aidbox stored them.
const SEED_CLIENT_HASH = '$s0$f0801$4z6uTgJ3vF2dDPMhnT5Weg==$15LXbNYov+ByAsQgzHwXWIBWck7rdQGtMIEgMxC2Bko=';
const SEED_USER_HASH = '$s0$f0801$zRTDzXCSCs1Jd0S+iQi+zA==$s5xzMsN7t609Vwsfk4WvusxnVqENcXyUKnnWxedV7hY=';

/** Verifies with Python's hashlib.scrypt (OpenSSL), an implementation independent of Warden's. */
async function pythonScrypt(secret: string, saltBase64: string, n: number, r: number, p: number, length: number): Promise<string> {
  const script = [
    'import base64, hashlib, sys',
    'secret, salt, n, r, p, length = sys.argv[1].encode(), base64.b64decode(sys.argv[2]), *map(int, sys.argv[3:7])',
    'print(base64.b64encode(hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, dklen=length, maxmem=256*1024*1024)).decode())',
  ].join('\n');
  const { stdout } = await promisify(execFile)('python3', ['-c', script, secret, saltBase64, String(n), String(r), String(p), String(length)]);
  return stdout.trim();
}

describe('scrypt hashes in Aidbox format', () => {
  test('a hash is $s0$f0801$<salt>$<key>: N=2^15, r=8, p=1, 16-byte salt, 32-byte key', async () => {
    const hash = await hashSecret('s3cret');
    const match = /^\$s0\$([0-9a-f]+)\$([^$]+)\$([^$]+)$/.exec(hash);
    assert.ok(match, hash);
    assert.equal(match[1], 'f0801');
    assert.equal(Buffer.from(match[2], 'base64').length, 16);
    assert.equal(Buffer.from(match[3], 'base64').length, 32);
  });

  test("Warden's hash verifies with an independent scrypt implementation (Python hashlib) at N=2^15, r=8, p=1", async () => {
    const secret = 'pässwörd with spaces:and:colons';
    const hash = await hashSecret(secret);
    const [, , , salt, key] = hash.split('$');
    assert.equal(await pythonScrypt(secret, salt, 2 ** 15, 8, 1, 32), key);
    assert.notEqual(await pythonScrypt('other', salt, 2 ** 15, 8, 1, 32), key);
  });

  test('two hashes of one secret differ (random salt) and both verify', async () => {
    const [a, b] = await Promise.all([hashSecret('same'), hashSecret('same')]);
    assert.notEqual(a, b);
    assert.ok(await verifySecret('same', a));
    assert.ok(await verifySecret('same', b));
  });

  test("the seed's sample hashes parse and verify against the seed's secret and password", async () => {
    assert.ok(isSecretHash(SEED_CLIENT_HASH));
    assert.ok(isSecretHash(SEED_USER_HASH));
    assert.ok(await verifySecret('client-secret', SEED_CLIENT_HASH));
    assert.ok(await verifySecret('long-user-password', SEED_USER_HASH));
    assert.equal(await verifySecret('client-secreT', SEED_CLIENT_HASH), false);
  });

  test('a hash with other scrypt parameters verifies by the parameters it names', async () => {
    const salt = Buffer.alloc(16, 7).toString('base64');
    const key = await pythonScrypt('low-cost', salt, 2 ** 10, 8, 2, 32);
    const params = ((10 << 16) | (8 << 8) | 2).toString(16);
    assert.ok(await verifySecret('low-cost', `$s0$${params}$${salt}$${key}`));
  });

  test('malformed hashes never verify and are not taken for hashes', async () => {
    for (const bad of ['', 'plain', '$s0$f0801$$', '$s0$zz$AAAA$AAAA', `$s0$f0801$${Buffer.alloc(16).toString('base64')}$short`, `$s0$1f0801$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`]) {
      assert.equal(isSecretHash(bad), false, bad);
      assert.equal(await verifySecret('x', bad), false, bad);
    }
  });
});
