// The TOTP rules of src/authn/two-factor.ts on an injected clock (RFC 6238): which time steps a code is accepted
// for (the current one, one ahead, AuthConfig.twoFactor.validPastTokensCount behind), the otpauth:// URI the QR
// code carries, and recovery codes kept only as hashes. The login page's use of them is in
// test/security/two-factor.test.ts and test/e2e/two-factor.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import * as OTPAuth from 'otpauth';
import { matchingStep, newRecoveryCodes, newSecret, otpauthUri } from '../../src/authn/two-factor.ts';

const secret = newSecret();
const PERIOD_MS = 30_000;
/** A moment in the middle of step 60_000_000 (some day in 2027). */
const STEP = 60_000_000;
const now = STEP * PERIOD_MS + 12_345;
const codeAt = (step: number) => OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), timestamp: step * PERIOD_MS, period: 30 });
const settings = (validPastTokensCount: number) => ({ issuerName: 'Warden Test', validPastTokensCount });

/** A code of `step` is also the code of another step in the window about once in a million: skip those. */
const unique = (step: number, window: number[]) => window.every((other) => other === step || codeAt(other) !== codeAt(step));

describe('TOTP time steps (RFC 6238 §5.2)', () => {
  test('the current step\'s code is accepted, and names its step', () => {
    assert.equal(matchingStep(secret, codeAt(STEP), settings(1), now), STEP);
  });

  test('one step ahead is accepted (a phone clock running fast); two ahead are not', () => {
    assert.equal(matchingStep(secret, codeAt(STEP + 1), settings(1), now), STEP + 1);
    if (unique(STEP + 2, [STEP - 1, STEP, STEP + 1, STEP + 2])) assert.equal(matchingStep(secret, codeAt(STEP + 2), settings(1), now), null);
  });

  test('validPastTokensCount steps back are accepted, and not one more', () => {
    for (const past of [0, 1, 2, 5]) {
      const window = Array.from({ length: past + 3 }, (_, index) => STEP + 1 - index);
      assert.equal(matchingStep(secret, codeAt(STEP - past), settings(past), now), STEP - past, `${past} back`);
      if (unique(STEP - past - 1, window)) assert.equal(matchingStep(secret, codeAt(STEP - past - 1), settings(past), now), null, `${past + 1} back with validPastTokensCount ${past}`);
    }
  });

  test('a code of another key is refused', () => {
    const other = OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(newSecret()), timestamp: now, period: 30 });
    if (other !== codeAt(STEP) && other !== codeAt(STEP - 1) && other !== codeAt(STEP + 1)) assert.equal(matchingStep(secret, other, settings(1), now), null);
  });

  test('anything but six digits matches no step: letters, spaces, signs, other lengths, other digit scripts', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }).filter((text) => !/^[0-9]{6}$/.test(text)), (text) => matchingStep(secret, text, settings(10), now) === null),
      { numRuns: 500 },
    );
    // Unicode digits (Arabic-Indic, fullwidth) are not ASCII digits, even where the code would read the same.
    assert.equal(matchingStep(secret, codeAt(STEP).replace(/\d/g, (digit) => String.fromCharCode(0x0660 + Number(digit))), settings(1), now), null);
    assert.equal(matchingStep(secret, ` ${codeAt(STEP)}`, settings(1), now), null);
  });
});

describe('enrolment material', () => {
  test('the otpauth:// URI names the issuer, the account and the key, SHA-1, 6 digits, 30 s', () => {
    const uri = new URL(otpauthUri(secret, settings(1), 'tess@example.com'));
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.host, 'totp');
    assert.equal(decodeURIComponent(uri.pathname), '/Warden Test:tess@example.com');
    assert.equal(uri.searchParams.get('issuer'), 'Warden Test');
    assert.equal(uri.searchParams.get('secret'), secret);
    assert.equal(uri.searchParams.get('algorithm'), 'SHA1');
    assert.equal(uri.searchParams.get('digits'), '6');
    assert.equal(uri.searchParams.get('period'), '30');
  });

  test('a new key has 160 bits (RFC 4226 §4 R6) and is different each time', () => {
    assert.equal(OTPAuth.Secret.fromBase32(secret).bytes.length, 20);
    assert.notEqual(newSecret(), newSecret());
  });

  test('ten recovery codes, all different, kept only as hashes that do not contain them', () => {
    const { codes, hashes } = newRecoveryCodes();
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    assert.equal(hashes.length, 10);
    for (const code of codes) {
      assert.match(code, /^[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}$/);
      assert.ok(hashes.every((hash) => !hash.includes(code.replace(/-/g, ''))));
    }
  });
});
