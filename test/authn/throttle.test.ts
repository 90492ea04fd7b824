// The address a failed authentication is counted under (src/authn/throttle.ts): an IPv6 /64 is one caller.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { addressBucket } from '../../src/authn/throttle.ts';

test('IPv4 addresses count as themselves, and so do IPv4-mapped IPv6 ones', () => {
  assert.equal(addressBucket('203.0.113.7'), '203.0.113.7');
  assert.equal(addressBucket('::ffff:203.0.113.7'), '203.0.113.7');
});

test('IPv6 addresses count by their /64, however they are written (RFC 7421; ASVS 5.0 V6.3.1)', () => {
  const bucket = addressBucket('2001:db8:0:1::1');
  for (const address of ['2001:db8:0:1::2', '2001:0db8:0000:0001:ffff:ffff:ffff:ffff', '2001:DB8:0:1:0:0:0:9', '2001:db8:0:1::3%eth0']) {
    assert.equal(addressBucket(address), bucket, address);
  }
  assert.notEqual(addressBucket('2001:db8:0:2::1'), bucket);
});

test('property: addresses in one /64 share a bucket, and any text gives a bucket without throwing', () => {
  const group = fc.integer({ min: 0, max: 0xffff }).map((value) => value.toString(16));
  fc.assert(
    fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), fc.array(group, { minLength: 4, maxLength: 4 }), (groups, host) => {
      const other = [...groups.slice(0, 4), ...host];
      assert.equal(addressBucket(groups.join(':')), addressBucket(other.join(':')));
    }),
  );
  fc.assert(fc.property(fc.string(), (text) => typeof addressBucket(text) === 'string'));
});
