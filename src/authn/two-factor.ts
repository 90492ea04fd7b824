// TOTP two-factor login (RFC 6238) with the `otpauth` library. A User with `twoFactor.enabled` proves who they are
// with their password and then a code from their authenticator app (or a recovery code).
//   - The key (`twoFactor.secretKey`) is sealed (src/iam/sealed-secret.ts): the API never returns it in clear.
//   - A code is accepted for the current time step, the next one (clock drift) and `validPastTokensCount` steps
//     before it (AuthConfig.twoFactor, Aidbox's name), and only once: a step at or before the last one used is
//     refused (RFC 6238 §5.2).
//   - Recovery codes are stored as SHA-256 hashes (they are random, not passwords) and each works once.
//   - Wrong codes are counted by the same throttle as passwords, under the identity `TwoFactor/<user id>`.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import { seal, unseal } from '../iam/sealed-secret.ts';
import type { Database } from '../store/database.ts';
import { VersionConflict, type Resource, type ResourceStore } from '../store/resource-store.ts';
import type { FailureThrottle } from './throttle.ts';

export interface TwoFactorSettings {
  /** The issuer shown in the authenticator app. */
  issuerName: string;
  /** How many 30-second steps back a code is still accepted (clock drift, slow typing). */
  validPastTokensCount: number;
}

export interface UserTwoFactor {
  enabled?: boolean;
  secretKey?: string;
  recoveryCodes?: string[];
}

const PERIOD = 30;
const RECOVERY_CODES = 10;
const DEFAULTS: TwoFactorSettings = { issuerName: 'Warden', validPastTokensCount: 1 };

export const twoFactorOf = (user: Resource): UserTwoFactor => (user.twoFactor && typeof user.twoFactor === 'object' ? (user.twoFactor as UserTwoFactor) : {});
export const hasTwoFactor = (user: Resource): boolean => twoFactorOf(user).enabled === true && typeof twoFactorOf(user).secretKey === 'string';

/** AuthConfig.twoFactor of the first AuthConfig (Aidbox keeps one), with Warden's defaults. */
export async function twoFactorSettings(db: Database): Promise<TwoFactorSettings> {
  const [row] = await db.query<{ settings: string | null }>(
    `select (resource->'twoFactor')::text as settings from resource where type = 'AuthConfig' and not deleted order by id limit 1`,
  );
  const given = row?.settings ? (JSON.parse(row.settings) as Partial<TwoFactorSettings>) : {};
  return {
    issuerName: typeof given.issuerName === 'string' ? given.issuerName : DEFAULTS.issuerName,
    validPastTokensCount: Number.isInteger(given.validPastTokensCount) ? given.validPastTokensCount! : DEFAULTS.validPastTokensCount,
  };
}

export function newSecret(): string {
  return new OTPAuth.Secret({ size: 20 }).base32;
}

/** The otpauth:// URI an authenticator app reads from the QR code. */
export function otpauthUri(secret: string, settings: TwoFactorSettings, account: string): string {
  return new OTPAuth.TOTP({ issuer: settings.issuerName, label: account, secret: OTPAuth.Secret.fromBase32(secret), period: PERIOD, digits: 6, algorithm: 'SHA1' }).toString();
}

/** The time step `code` belongs to, or null when it matches none of the accepted steps. */
export function matchingStep(secret: string, code: string, settings: TwoFactorSettings, now = Date.now()): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const key = OTPAuth.Secret.fromBase32(secret);
  const current = Math.floor(now / 1000 / PERIOD);
  // One step ahead for a phone clock that runs fast (RFC 6238 §5.2), validPastTokensCount behind.
  for (let back = -1; back <= settings.validPastTokensCount; back++) {
    const step = current - back;
    const expected = OTPAuth.TOTP.generate({ secret: key, timestamp: step * PERIOD * 1000, period: PERIOD });
    if (timingSafeEqual(Buffer.from(expected), Buffer.from(code))) return step;
  }
  return null;
}

const hashRecoveryCode = (code: string) => createHash('sha256').update(code.replace(/[\s-]/g, '').toLowerCase()).digest('base64url');

/** Fresh recovery codes: shown once to the user, stored only as hashes. */
export function newRecoveryCodes(): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: RECOVERY_CODES }, () => {
    const raw = randomBytes(8).toString('hex');
    return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8, 12)}-${raw.slice(12)}`;
  });
  return { codes, hashes: codes.map(hashRecoveryCode) };
}

/** The twoFactor of a User who has just confirmed enrolment with a code. */
export async function enabledTwoFactor(db: Database, secret: string, recoveryHashes: string[]): Promise<UserTwoFactor> {
  return { enabled: true, secretKey: await seal(db, secret), recoveryCodes: recoveryHashes };
}

export type CodeCheck = 'ok' | 'wrong' | 'replayed';

export class TwoFactorCodes {
  constructor(
    private readonly db: Database,
    private readonly resources: ResourceStore,
    private readonly throttle: FailureThrottle,
  ) {}

  /**
   * Checks a TOTP or recovery code of `user`, throttled per user and address (throws Throttled). A TOTP code is
   * used up by its step; a recovery code is removed from the User.
   */
  async check(user: Resource, code: string, address: string): Promise<CodeCheck> {
    const identity = `TwoFactor/${user.id}`;
    // Reserved before the check, so concurrent guesses cannot all slip under the limit.
    await this.throttle.reserve(identity, address);
    const result = await this.checkUnthrottled(user, code.trim());
    if (result === 'ok') await this.throttle.succeeded(identity, address);
    return result;
  }

  private async checkUnthrottled(user: Resource, code: string): Promise<CodeCheck> {
    const twoFactor = twoFactorOf(user);
    const secret = twoFactor.secretKey ? await unseal(this.db, twoFactor.secretKey) : null;
    if (!secret) return 'wrong';
    const step = matchingStep(secret, code, await twoFactorSettings(this.db));
    if (step !== null) return (await this.useStep(user.id, step)) ? 'ok' : 'replayed';
    return (await this.useRecoveryCode(user.id, code)) ? 'ok' : 'wrong';
  }

  /** Records `step` as used, atomically; false when it (or a later one) was used already. */
  async useStep(userId: string, step: number): Promise<boolean> {
    const rows = await this.db.query(
      `insert into two_factor_step (user_id, last_step) values ($1, $2)
       on conflict (user_id) do update set last_step = excluded.last_step where two_factor_step.last_step < excluded.last_step
       returning 1`,
      [userId, step],
    );
    return rows.length === 1;
  }

  private async useRecoveryCode(userId: string, code: string): Promise<boolean> {
    if (code.length < 16 || code.length > 40) return false;
    const hash = hashRecoveryCode(code);
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.resources.read('User', userId);
      if (!current || current.deleted) return false;
      const twoFactor = twoFactorOf(current.resource);
      const codes = twoFactor.recoveryCodes ?? [];
      if (!codes.includes(hash)) return false;
      const next = { ...current.resource, twoFactor: { ...twoFactor, recoveryCodes: codes.filter((one) => one !== hash) } };
      try {
        await this.resources.write(next, current.versionId);
        return true;
      } catch (error) {
        if (!(error instanceof VersionConflict)) throw error;
      }
    }
    return false;
  }
}
