// Proof Key for Code Exchange (RFC 7636) with S256, from the browser's own CSPRNG and SubtleCrypto.

export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function randomToken(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** §4.1: 32 random octets give a 43-character verifier, the minimum length and 256 bits of entropy. */
export function createVerifier(): string {
  return randomToken(32);
}

/** §4.2: code_challenge = BASE64URL(SHA256(ASCII(code_verifier))). */
export async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}
