// Signs a JWS in compact serialization (RFC 7515 §7.1) with node:crypto on libuv's thread pool. jose signs
// through WebCrypto, which cost 1.4× the CPU of the RSA signature itself for RS256 and 4.7× for ES256 (its
// key and algorithm handling per call), and kept the event loop busy meanwhile: issuing a token is mostly
// signing, so this is its hot path. Verification stays with jose (jwtVerify), which checks what we accept.
import { sign, type KeyObject } from 'node:crypto';
import type { SigningAlg } from './keys.ts';

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The compact JWS of `payload`; the protected header is `alg` then `header`'s fields, `key` a private key for `alg`. */
export function signCompact(alg: SigningAlg, key: KeyObject, header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  const input = `${encode({ alg, ...header })}.${encode(payload)}`;
  // RFC 7518 §3.3 (RSASSA-PKCS1-v1_5 with SHA-256); §3.4: an ECDSA signature is R || S, not DER.
  const options = alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
  return new Promise((resolve, reject) => {
    sign('sha256', Buffer.from(input), options, (error, signature) => {
      if (error) reject(error);
      else resolve(`${input}.${signature.toString('base64url')}`);
    });
  });
}
