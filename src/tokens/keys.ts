// The keys that sign access tokens. They live in the database, so every server process signs and verifies
// with the same keys and a restart never makes new ones. Rotation adds a key that signs from then on; older
// keys stay published in the JWKS (and keep verifying the tokens they signed) until they are retired.
import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Database } from '../store/database.ts';

export type SigningAlg = 'RS256' | 'ES256';
export const SIGNING_ALGS: SigningAlg[] = ['RS256', 'ES256'];

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  privateKey: CryptoKey;
  /** The same private key for node:crypto, which signs access tokens (src/tokens/jws.ts). */
  signer: KeyObject;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

interface KeyRow {
  kid: string;
  alg: SigningAlg;
  private_jwk: JWK | string;
  public_jwk: JWK | string;
  [key: string]: unknown;
}

const CHANNEL = 'warden_signing_keys';
/** An unknown kid makes us re-read the keys, but not more often than this, so forged kids cannot flood the store. */
const RELOAD_INTERVAL_MS = 1000;
const asJwk = (value: JWK | string): JWK => (typeof value === 'string' ? (JSON.parse(value) as JWK) : value);

async function generateKey(alg: SigningAlg): Promise<{ kid: string; privateJwk: JWK; publicJwk: JWK }> {
  const pair = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' && { modulusLength: 2048 }) });
  const publicJwk = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    privateJwk: { ...(await exportJWK(pair.privateKey)), kid, alg, use: 'sig' },
    publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
  };
}

export class KeyStore {
  /** Live keys, newest first. */
  private keys: SigningKey[] = [];
  private lastReload = 0;

  constructor(
    private readonly db: Database,
    private readonly signingAlg: SigningAlg,
  ) {}

  /** Loads the keys, making the first one when the database has none, and follows rotations by other processes. */
  async start(): Promise<void> {
    await this.db.transaction(async (tx) => {
      // Two processes starting on an empty database must not both make a first key.
      await tx.query('select pg_advisory_xact_lock(7243002)');
      const [row] = await tx.query('select kid from signing_key where alg = $1 and retired_at is null limit 1', [this.signingAlg]);
      if (!row) await this.insertKey(tx, this.signingAlg);
    });
    await this.reload();
    await this.db.listen(CHANNEL, () => {
      void this.reload().catch(() => {});
    });
  }

  /** The key new tokens are signed with: the newest live key of the configured algorithm. */
  current(): SigningKey {
    const key = this.keys.find((candidate) => candidate.alg === this.signingAlg);
    if (!key) throw new Error(`no live ${this.signingAlg} signing key`);
    return key;
  }

  /** The public key a token names by kid, if it is one of ours and not retired. */
  async verificationKey(kid: string | undefined): Promise<SigningKey | null> {
    if (!kid) return null;
    let key = this.keys.find((candidate) => candidate.kid === kid);
    if (!key && Date.now() - this.lastReload > RELOAD_INTERVAL_MS) {
      await this.reload();
      key = this.keys.find((candidate) => candidate.kid === kid);
    }
    return key ?? null;
  }

  /** RFC 7517 JWK Set of every live key. */
  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((key) => key.publicJwk) };
  }

  /** Adds a new key that signs from now on, in every process; the previous keys keep verifying. */
  async rotate(alg: SigningAlg = this.signingAlg): Promise<string> {
    const kid = await this.db.transaction((tx) => this.insertKey(tx, alg));
    await this.db.notify(CHANNEL, 'rotated');
    await this.reload();
    return kid;
  }

  /** Stops publishing a key: tokens it signed no longer verify anywhere. */
  async retire(kid: string): Promise<void> {
    await this.db.query('update signing_key set retired_at = now() where kid = $1 and retired_at is null', [kid]);
    await this.db.notify(CHANNEL, 'retired');
    await this.reload();
  }

  async reload(): Promise<void> {
    this.lastReload = Date.now();
    const rows = await this.db.query<KeyRow>(
      'select kid, alg, private_jwk, public_jwk from signing_key where retired_at is null order by created_at desc, kid',
    );
    this.keys = await Promise.all(
      rows.map(async (row) => ({
        kid: row.kid,
        alg: row.alg,
        privateKey: (await importJWK(asJwk(row.private_jwk), row.alg)) as CryptoKey,
        signer: createPrivateKey({ key: asJwk(row.private_jwk) as JsonWebKey, format: 'jwk' }),
        publicKey: (await importJWK(asJwk(row.public_jwk), row.alg)) as CryptoKey,
        publicJwk: asJwk(row.public_jwk),
      })),
    );
  }

  private async insertKey(tx: Pick<Database, 'query'>, alg: SigningAlg): Promise<string> {
    const { kid, privateJwk, publicJwk } = await generateKey(alg);
    await tx.query(
      'insert into signing_key (kid, alg, private_jwk, public_jwk, created_at) values ($1, $2, $3::text::jsonb, $4::text::jsonb, clock_timestamp())',
      [kid, alg, JSON.stringify(privateJwk), JSON.stringify(publicJwk)],
    );
    return kid;
  }
}
