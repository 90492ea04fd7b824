// FHIR dates as ranges. A partial date stands for every instant it covers ("2020" is the whole year), so
// every date, dateTime, instant and Period becomes a half-open range [low, high) of instants, and search
// compares ranges (FHIR R4 §3.1.1.4.2 "date").

/** Half-open range of instants, as ISO strings PostgreSQL reads as timestamptz; open ends are ±infinity. */
export interface DateRange {
  low: string;
  high: string;
}

export const NEGATIVE_INFINITY = '-infinity';
export const POSITIVE_INFINITY = 'infinity';

// YYYY, YYYY-MM, YYYY-MM-DD, or a date with hh:mm[:ss[.fff]] and an optional zone (Z or ±hh:mm).
const DATE_PATTERN =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

// FHIR years are 0001-9999. An instant a zone offset puts before year 1 is an open end: ISO 8601 writes
// year 0 and earlier in a form PostgreSQL does not read. The end of 9999 is year 10000, which it reads.
const EARLIEST = utc(1, 1, 1);

function utc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, ms));
  date.setUTCFullYear(year, month - 1, day); // Date.UTC reads years 0-99 as 1900-1999
  return date.getTime();
}

function daysInMonth(year: number, month: number): number {
  return new Date(utc(year, month + 1, 1) - 86_400_000).getUTCDate();
}

/** The instant a range bound stands for, in milliseconds since the epoch; ±Infinity for open ends. */
export function boundToMs(bound: string): number {
  if (bound === NEGATIVE_INFINITY) return -Infinity;
  if (bound === POSITIVE_INFINITY) return Infinity;
  return Date.parse(/^\d{5}-/.test(bound) ? `+0${bound}` : bound);
}

export function toBound(ms: number): string {
  if (ms === Infinity) return POSITIVE_INFINITY;
  if (ms < EARLIEST) return NEGATIVE_INFINITY;
  return new Date(ms).toISOString().replace(/^\+0*/, ''); // +010000-01-01T... → 10000-01-01T...
}

/**
 * The instants a FHIR date, dateTime or instant (or a search value of those forms) covers, or null when
 * `text` is not one. A value without a zone is read as UTC.
 */
export function parseDateRange(text: string): DateRange | null {
  const match = DATE_PATTERN.exec(text);
  if (!match) return null;
  const [, y, mo, d, h, mi, s, fraction, zone] = match;
  const year = Number(y);
  const month = mo === undefined ? 1 : Number(mo);
  const day = d === undefined ? 1 : Number(d);
  const hour = h === undefined ? 0 : Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  let offsetMinutes = 0;
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const [zh, zm] = zone.slice(1).split(':').map(Number);
    if (zh > 14 || zm > 59) return null;
    offsetMinutes = sign * (zh * 60 + zm);
  }
  const start = utc(year, month, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  let end: number;
  if (mo === undefined) end = utc(year + 1, 1, 1);
  else if (d === undefined) end = month === 12 ? utc(year + 1, 1, 1) : utc(year, month + 1, 1);
  else if (h === undefined) end = utc(year, month, day) + 86_400_000;
  else if (s === undefined) end = start + 60_000;
  else if (fraction === undefined) end = start + 1000;
  else end = start + 10 ** Math.max(0, 3 - fraction.length); // finer than a millisecond: one millisecond
  return { low: toBound(start), high: toBound(Math.max(end, EARLIEST)) };
}

/** A Period: from the start of its start to the end of its end; a missing end is open. */
export function periodRange(start: string | undefined, end: string | undefined): DateRange | null {
  const from = start === undefined ? { low: NEGATIVE_INFINITY, high: NEGATIVE_INFINITY } : parseDateRange(start);
  const to = end === undefined ? { low: POSITIVE_INFINITY, high: POSITIVE_INFINITY } : parseDateRange(end);
  if (!from || !to) return null;
  if (start === undefined && end === undefined) return null;
  return { low: from.low, high: to.high };
}
