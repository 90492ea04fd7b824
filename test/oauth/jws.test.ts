// Access tokens are signed with node:crypto (src/tokens/jws.ts), not jose: what they sign must verify with jose
// exactly as before, for both algorithms (RFC 7515 §7.1 compact form; RFC 7518 §3.3 and §3.4 signatures).
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, type JsonWebKey } from 'node:crypto';
import { describe, test } from 'node:test';
import { decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { signCompact } from '../../src/tokens/jws.ts';

for (const alg of ['RS256', 'ES256'] as const) {
  describe(`signCompact (${alg})`, () => {
    test('jose verifies the token, its header and its claims', async () => {
      const pair = await generateKeyPair(alg, { extractable: true });
      const signer = createPrivateKey({ key: (await exportJWK(pair.privateKey)) as JsonWebKey, format: 'jwk' });
      const claims = { iss: 'https://warden.example', sub: 'c1', aud: 'https://warden.example', iat: 1, exp: 4_000_000_000, sid: 's1', scope: 'a b' };
      const token = await signCompact(alg, signer, { kid: 'k1', typ: 'at+jwt' }, claims);
      assert.deepEqual(decodeProtectedHeader(token), { alg, kid: 'k1', typ: 'at+jwt' });
      const { payload } = await jwtVerify(token, pair.publicKey, { algorithms: [alg], typ: 'at+jwt' });
      assert.deepEqual(payload, claims);
      // An ECDSA signature in JWS is R || S (64 bytes for P-256), not DER.
      if (alg === 'ES256') assert.equal(Buffer.from(token.split('.')[2], 'base64url').length, 64);
    });

    test('signing with a key that cannot sign rejects the promise rather than throwing', async () => {
      const pair = await generateKeyPair(alg, { extractable: true });
      const publicKey = createPublicKey({ key: (await exportJWK(pair.publicKey)) as JsonWebKey, format: 'jwk' });
      let signing: Promise<string> | undefined;
      assert.doesNotThrow(() => {
        signing = signCompact(alg, publicKey, { kid: 'k1' }, { sub: 'c1' });
      });
      await assert.rejects(signing!);
    });

    test('a changed claim no longer verifies', async () => {
      const pair = await generateKeyPair(alg, { extractable: true });
      const signer = createPrivateKey({ key: (await exportJWK(pair.privateKey)) as JsonWebKey, format: 'jwk' });
      const [header, , signature] = (await signCompact(alg, signer, { kid: 'k1' }, { sub: 'c1' })).split('.');
      const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'root' })).toString('base64url')}.${signature}`;
      await assert.rejects(jwtVerify(forged, pair.publicKey, { algorithms: [alg] }));
    });
  });
}
