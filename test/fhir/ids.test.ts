import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { newResourceId } from '../../src/fhir/ids.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('a new id is a version 7 UUID (RFC 9562) whose first 48 bits are the time, and a valid FHIR id', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (now) => {
      const id = newResourceId(now);
      assert.match(id, UUID_V7);
      assert.match(id, /^[A-Za-z0-9\-.]{1,64}$/);
      assert.equal(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16), now);
    }),
  );
});

test('ids sort by the time they were made, so new rows go to the end of every (type, id) index', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 48 - 2 }), fc.integer({ min: 1, max: 10_000 }), (earlier, later) => {
      assert.ok(newResourceId(earlier) < newResourceId(Math.min(2 ** 48 - 1, earlier + later)));
    }),
  );
});

test('ids made in the same millisecond differ (74 random bits)', () => {
  const now = Date.now();
  const ids = new Set(Array.from({ length: 10_000 }, () => newResourceId(now)));
  assert.equal(ids.size, 10_000);
});
