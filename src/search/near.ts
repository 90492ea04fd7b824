// Location `near` (FHIR R4 §3.1.1.4.15, Location search parameters): `near=[latitude]|[longitude]|[distance]|[units]`,
// WGS84 degrees; the distance in `units` (UCUM: km, m, [mi_i], [nmi_i]; km when omitted), or 10 km when the
// distance itself is omitted (the spec leaves that to the server). A Location matches when Location.position is
// within the distance along the great circle (haversine on a sphere of the mean Earth radius, which is within
// 0.5% of the WGS84 ellipsoid's distances).

/** Mean Earth radius (IUGG), km. */
export const EARTH_RADIUS_KM = 6371.0088;
/** Half the Earth's circumference: no two points are farther apart. */
const MAX_DISTANCE_KM = Math.PI * EARTH_RADIUS_KM;
export const DEFAULT_NEAR_KM = 10;

const UNITS_KM: Record<string, number> = { km: 1, m: 0.001, '[mi_i]': 1.609344, '[nmi_i]': 1.852 };

export interface Near {
  latitude: number;
  longitude: number;
  /** The distance in km, at most half the Earth's circumference. */
  km: number;
}

const DECIMAL = /^[+-]?(?:\d{1,20}(?:\.\d{1,20})?|\.\d{1,20})$/;

/** The point and distance a `near` value names, or a message saying what is wrong with it. */
export function parseNear(value: string): Near | { error: string } {
  const parts = value.split('|');
  if (parts.length < 2 || parts.length > 4) return { error: 'expected [latitude]|[longitude]|[distance]|[units]' };
  const [lat, long, distance = '', units = ''] = parts;
  if (!DECIMAL.test(lat) || !DECIMAL.test(long)) return { error: 'latitude and longitude must be decimal degrees' };
  const latitude = Number(lat);
  const longitude = Number(long);
  if (latitude < -90 || latitude > 90) return { error: 'latitude must be from -90 to 90' };
  if (longitude < -180 || longitude > 180) return { error: 'longitude must be from -180 to 180' };
  if (distance === '') {
    if (units !== '') return { error: 'units without a distance' };
    return { latitude, longitude, km: DEFAULT_NEAR_KM };
  }
  if (!DECIMAL.test(distance) || Number(distance) < 0) return { error: 'the distance must be a decimal number, 0 or more' };
  const perUnit = UNITS_KM[units === '' ? 'km' : units];
  if (perUnit === undefined) return { error: `units must be one of ${Object.keys(UNITS_KM).join(', ')}` };
  return { latitude, longitude, km: Math.min(Number(distance) * perUnit, MAX_DISTANCE_KM) };
}

/** Great-circle distance in km between two points (haversine); the SQL condition computes the same. */
export function distanceKm(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
  const rad = Math.PI / 180;
  const h =
    Math.sin(((b.latitude - a.latitude) * rad) / 2) ** 2 +
    Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(((b.longitude - a.longitude) * rad) / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

export interface PositionRow {
  code: string;
  latitude: number;
  longitude: number;
}

/** Location.position as an index row, when it holds a valid point. */
export function positionRow(code: string, position: unknown): PositionRow | null {
  const { latitude, longitude } = (position ?? {}) as { latitude?: unknown; longitude?: unknown };
  if (typeof latitude !== 'number' || typeof longitude !== 'number') return null;
  if (!(Math.abs(latitude) <= 90) || !(Math.abs(longitude) <= 180)) return null;
  return { code, latitude, longitude };
}

type Bind = (value: unknown) => string;

/**
 * The rows of `search_position` (as `s`) within the distance: a band of latitudes first (the index's range), then
 * the exact distance. The bound values are cast from text, as elsewhere (src/search/query.ts).
 */
export function nearCondition(near: Near): (bind: Bind) => string {
  const band = near.km / ((EARTH_RADIUS_KM * Math.PI) / 180);
  return (bind) => {
    const lat = `${bind(String(near.latitude))}::text::float8`;
    const long = `${bind(String(near.longitude))}::text::float8`;
    return `(s.latitude between ${bind(String(near.latitude - band))}::text::float8 and ${bind(String(near.latitude + band))}::text::float8
      and 2 * ${EARTH_RADIUS_KM} * asin(least(1, sqrt(power(sin(radians(s.latitude - ${lat}) / 2), 2)
        + cos(radians(${lat})) * cos(radians(s.latitude)) * power(sin(radians(s.longitude - ${long}) / 2), 2))))
        <= ${bind(String(near.km))}::text::float8)`;
  };
}
