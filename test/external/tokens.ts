// Tokens an attacker (or a test) can make without the provider's cooperation, and small request helpers.
import { createPublicKey } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { base64url, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { freePort, type RequestOptions } from '../helpers/server.ts';

export const now = () => Math.floor(Date.now() / 1000);

export function bearer(token: string): RequestOptions {
  return { auth: null, headers: { authorization: `Bearer ${token}` } };
}

/** RFC 7519 §6: an unsecured JWT, `alg: none` and an empty signature. */
export function unsecured(claims: JWTPayload, header: Record<string, unknown> = {}): string {
  const encode = (value: object) => base64url.encode(JSON.stringify(value));
  return `${encode({ alg: 'none', typ: 'JWT', ...header })}.${encode(claims)}.`;
}

/** The HS/RS confusion: the provider's public key, as PEM text, used as the HMAC secret. */
export async function hmacWithPublicKey(publicJwk: JWK, claims: JWTPayload, kid?: string): Promise<string> {
  const pem = createPublicKey({ key: publicJwk as import('node:crypto').JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', ...(kid && { kid }) }).sign(Buffer.from(String(pem)));
}

export async function hmac(secret: string, claims: JWTPayload, alg = 'HS256'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(Buffer.from(secret));
}

export interface AttackerKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  sign(claims: JWTPayload, header?: Record<string, unknown>): Promise<string>;
}

export async function attackerKey(kid = 'attacker'): Promise<AttackerKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return {
    privateKey,
    publicJwk,
    sign: (claims, header = {}) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, ...header }).sign(privateKey),
  };
}

/** An HTTP server that answers with `respond`, counts requests, and can keep them waiting forever. */
export interface StubServer {
  url: string;
  hits: number;
  /** Requests received and not yet answered or abandoned by their client. */
  open: number;
  /** Resolves when the next request arrives. */
  nextRequest(): Promise<void>;
  close(): Promise<void>;
}

export async function stubServer(
  respond: ((req: IncomingMessage, body: string) => { status: number; body: unknown }) | 'hang',
): Promise<StubServer> {
  const port = await freePort();
  let waiters: (() => void)[] = [];
  const state = { url: `http://127.0.0.1:${port}`, hits: 0, open: 0 };
  const server: Server = createServer((req, res) => {
    state.hits++;
    state.open++;
    res.on('close', () => state.open--);
    for (const wake of waiters) wake();
    waiters = [];
    if (respond === 'hang') return;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const { status, body } = respond(req, Buffer.concat(chunks).toString('utf8'));
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return Object.assign(state, {
    nextRequest: () => new Promise<void>((resolve) => waiters.push(resolve)),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** A port nothing listens on: a provider that is down. */
export async function deadUrl(path = '/jwks'): Promise<string> {
  return `http://127.0.0.1:${await freePort()}${path}`;
}
