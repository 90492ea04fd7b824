import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { boundToMs as ms, parseDateRange, periodRange } from '../../src/search/date-range.ts';


describe('date ranges', () => {
  test('a year, a month and a day cover every instant in them', () => {
    assert.deepEqual(parseDateRange('2020'), { low: '2020-01-01T00:00:00.000Z', high: '2021-01-01T00:00:00.000Z' });
    assert.deepEqual(parseDateRange('2020-02'), { low: '2020-02-01T00:00:00.000Z', high: '2020-03-01T00:00:00.000Z' });
    assert.deepEqual(parseDateRange('2020-12'), { low: '2020-12-01T00:00:00.000Z', high: '2021-01-01T00:00:00.000Z' });
    assert.deepEqual(parseDateRange('2020-02-29'), { low: '2020-02-29T00:00:00.000Z', high: '2020-03-01T00:00:00.000Z' });
  });

  test('a time covers its precision, shifted by its zone', () => {
    assert.deepEqual(parseDateRange('2020-05-03T10:00+02:00'), { low: '2020-05-03T08:00:00.000Z', high: '2020-05-03T08:01:00.000Z' });
    assert.deepEqual(parseDateRange('2020-05-03T10:00:05Z'), { low: '2020-05-03T10:00:05.000Z', high: '2020-05-03T10:00:06.000Z' });
    assert.deepEqual(parseDateRange('2020-05-03T10:00:05.25Z'), { low: '2020-05-03T10:00:05.250Z', high: '2020-05-03T10:00:05.260Z' });
    assert.deepEqual(parseDateRange('2020-05-03T10:00:05.123456Z'), { low: '2020-05-03T10:00:05.123Z', high: '2020-05-03T10:00:05.124Z' });
  });

  test('the last year ends in year 10000, written as PostgreSQL reads it', () => {
    assert.deepEqual(parseDateRange('9999'), { low: '9999-01-01T00:00:00.000Z', high: '10000-01-01T00:00:00.000Z' });
    assert.equal(ms('10000-01-01T00:00:00.000Z'), Date.UTC(10000, 0, 1));
  });

  test('an instant a zone puts before year 1 is an open end', () => {
    assert.deepEqual(parseDateRange('0001-01-01T00:00+01:00'), { low: '-infinity', high: '0001-01-01T00:00:00.000Z' });
  });

  test('years before 100 are not read as 19xx', () => {
    assert.deepEqual(parseDateRange('0050'), { low: '0050-01-01T00:00:00.000Z', high: '0051-01-01T00:00:00.000Z' });
  });

  test('refuses what is not a date', () => {
    for (const bad of ['', 'bad', '2020-13', '2020-02-30', '2019-02-29', '2020-1', '20201', '2020-05-03T25:00Z', '2020-05-03T10',
      '2020-05-03T10:60Z', '2020-05-03T10:00:61Z', '0000', '2020-05-03T10:00+15:00', '2020-05-03 10:00', 'ge2020']) {
      assert.equal(parseDateRange(bad), null, bad);
    }
  });

  test('a Period runs from the start of its start to the end of its end, open where missing', () => {
    assert.deepEqual(periodRange('2020', '2021-06'), { low: '2020-01-01T00:00:00.000Z', high: '2021-07-01T00:00:00.000Z' });
    assert.deepEqual(periodRange('2020', undefined), { low: '2020-01-01T00:00:00.000Z', high: 'infinity' });
    assert.deepEqual(periodRange(undefined, '2020'), { low: '-infinity', high: '2021-01-01T00:00:00.000Z' });
    assert.equal(periodRange(undefined, undefined), null);
    assert.equal(periodRange('nope', '2020'), null);
  });

  const dates = fc.date({ min: new Date('0100-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true });

  test('the last instant of year 9999 ends at year 10000', () => {
    assert.deepEqual(parseDateRange('9999-12-31T23:59:59.999Z'), { low: '9999-12-31T23:59:59.999Z', high: '10000-01-01T00:00:00.000Z' });
  });

  test('property: every instant lies in the ranges of each of its truncations, coarser ranges containing finer ones', () => {
    fc.assert(
      fc.property(dates, (date) => {
        const iso = date.toISOString(); // YYYY-MM-DDThh:mm:ss.sssZ
        const forms = [iso.slice(0, 4), iso.slice(0, 7), iso.slice(0, 10), `${iso.slice(0, 16)}Z`, `${iso.slice(0, 19)}Z`, iso];
        const ranges = forms.map((form) => parseDateRange(form));
        for (const range of ranges) {
          assert.ok(range);
          assert.ok(ms(range.low) <= date.getTime() && date.getTime() < ms(range.high), `${iso} in ${JSON.stringify(range)}`);
          assert.ok(ms(range.low) < ms(range.high));
        }
        for (let i = 1; i < ranges.length; i++) {
          assert.ok(ms(ranges[i - 1]!.low) <= ms(ranges[i]!.low) && ms(ranges[i]!.high) <= ms(ranges[i - 1]!.high));
        }
        // The full instant is one millisecond wide (compared as times: JavaScript writes year 10000 as +010000).
        assert.equal(ranges.at(-1)!.low, iso);
        assert.equal(ms(ranges.at(-1)!.high), date.getTime() + 1);
      }),
    );
  });

  test('property: a zone shifts the range by its offset and keeps its length', () => {
    fc.assert(
      fc.property(dates, fc.integer({ min: -14, max: 14 }), fc.constantFrom(0, 30, 45), (date, hours, minutes) => {
        if (Math.abs(hours) === 14 && minutes !== 0) return;
        const local = date.toISOString().slice(0, 19);
        const sign = hours < 0 ? '-' : '+';
        const zone = `${sign}${String(Math.abs(hours)).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`;
        const utc = parseDateRange(`${local}Z`)!;
        const zoned = parseDateRange(`${local}${zone}`)!;
        const offset = (hours < 0 ? -1 : 1) * (Math.abs(hours) * 60 + minutes) * 60_000;
        assert.equal(ms(zoned.low), ms(utc.low) - offset);
        assert.equal(ms(zoned.high) - ms(zoned.low), 1000);
      }),
    );
  });

  test('property: never throws, and whatever it accepts is a non-empty range', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789-:TZ+.'.split('')), maxLength: 30 }), (text) => {
        const range = parseDateRange(text);
        if (range) assert.ok(ms(range.low) < ms(range.high));
      }),
    );
  });
});
