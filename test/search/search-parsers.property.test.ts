// The parsers an attacker reaches through a search's query string: `near` and `_type`. Whatever the input,
// each answers a value within its stated bounds or a 400, never another error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FhirError } from '../../src/fhir/outcome.ts';
import { RESOURCE_TYPES } from '../../src/fhir/resource-types.ts';
import { DEFAULT_NEAR_KM, distanceKm, EARTH_RADIUS_KM, parseNear } from '../../src/search/near.ts';
import { MAX_SEARCH_TYPES, parseTypeList } from '../../src/resources/system-search.ts';

const nearish = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: fc.constantFrom(...'0123456789.-+|e,kmi_[]n '.split('')), maxLength: 40 }),
  fc.tuple(fc.double(), fc.double(), fc.double(), fc.constantFrom('', 'km', 'm', '[mi_i]', '[nmi_i]', 'mi', 'KM')).map((parts) => parts.join('|')),
);

test('parseNear answers a point on the globe with a bounded distance, or an error message', () => {
  fc.assert(
    fc.property(nearish, (value) => {
      const near = parseNear(value);
      if ('error' in near) return assert.equal(typeof near.error, 'string');
      assert.ok(near.latitude >= -90 && near.latitude <= 90, value);
      assert.ok(near.longitude >= -180 && near.longitude <= 180, value);
      assert.ok(near.km >= 0 && near.km <= Math.PI * EARTH_RADIUS_KM, value);
    }),
    { numRuns: 2000 },
  );
});

test('parseNear reads back any valid point and distance it is given, in km by default', () => {
  const decimal = (min: number, max: number) => fc.integer({ min: min * 1000, max: max * 1000 }).map((n) => (n / 1000).toFixed(3));
  fc.assert(
    fc.property(decimal(-90, 90), decimal(-180, 180), fc.option(decimal(0, 5000), { nil: undefined }), (lat, long, km) => {
      const near = parseNear([lat, long, ...(km === undefined ? [] : [km])].join('|'));
      assert.ok(!('error' in near));
      assert.equal(near.latitude, Number(lat));
      assert.equal(near.longitude, Number(long));
      assert.equal(near.km, km === undefined ? DEFAULT_NEAR_KM : Number(km));
    }),
  );
});

test('the haversine distance is symmetric, at most half the circumference, and zero from a point to itself', () => {
  const point = fc.record({ latitude: fc.double({ min: -90, max: 90, noNaN: true }), longitude: fc.double({ min: -180, max: 180, noNaN: true }) });
  fc.assert(
    fc.property(point, point, (a, b) => {
      const d = distanceKm(a, b);
      assert.ok(d >= 0 && d <= Math.PI * EARTH_RADIUS_KM + 1e-6);
      assert.ok(Math.abs(d - distanceKm(b, a)) < 1e-6);
      assert.ok(distanceKm(a, a) < 1e-6);
    }),
  );
});

test('parseTypeList answers known types, each once and at most the bound, or a 400', () => {
  const types = [...RESOURCE_TYPES];
  const list = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.array(fc.oneof(fc.constantFrom(...types), fc.string({ maxLength: 12 })), { maxLength: 30 }).map((items) => items.join(',')),
    fc.array(fc.constantFrom(...types), { minLength: 1, maxLength: 25 }).map((items) => items.join(',')),
  );
  fc.assert(
    fc.property(fc.oneof(list, fc.array(list, { minLength: 2, maxLength: 3 }), fc.constant(undefined)), (value) => {
      try {
        const parsed = parseTypeList(value);
        assert.ok(parsed.length >= 1 && parsed.length <= MAX_SEARCH_TYPES);
        assert.equal(new Set(parsed).size, parsed.length);
        for (const type of parsed) assert.ok(RESOURCE_TYPES.has(type));
      } catch (error) {
        assert.ok(error instanceof FhirError && error.status === 400, String(error));
      }
    }),
    { numRuns: 2000 },
  );
});
