// Where Warden may fetch keys or send tokens on a resource's say-so: a `jwks_uri` (Client, TokenIntrospector)
// or an introspection endpoint. Whoever may write such a resource would otherwise make Warden fetch from inside
// its network (SSRF, OWASP ASVS 5.0 V1.3.6): so plain http is refused, and so are link-local addresses
// (169.254.0.0/16, fe80::/10), where cloud metadata services answer with credentials, and the metadata services'
// host names. WARDEN_ALLOW_INSECURE_JWKS_URIS (development and tests) lifts both, loopback http included.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Config } from '../config.ts';
import { unprocessable } from '../fhir/outcome.ts';

/** Host names of cloud metadata services (GCP, AWS, Azure's is an address), which no key set lives at. */
const METADATA_HOSTS = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);

/** Addresses Warden never fetches from: link-local (IMDS at 169.254.169.254), AWS's IPv6 IMDS, Alibaba's, "any". */
export function isForbiddenAddress(address: string): boolean {
  // An IPv4-mapped IPv6 address as the URL parser writes it (::ffff:a9fe:a9fe is 169.254.169.254).
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (mapped) {
    const [high, low] = [parseInt(mapped[1], 16), parseInt(mapped[2], 16)];
    return isForbiddenAddress(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`);
  }
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i.exec(address);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (a === 169 && b === 254) || v4.slice(1).join('.') === '100.100.100.200' || a === 0;
  }
  const v6 = address.toLowerCase();
  return /^fe[89ab][0-9a-f]:/.test(v6) || v6 === 'fd00:ec2::254' || v6 === '::';
}

/** Why Warden may not fetch `raw`, or null when it may; checks the URL itself, not what its host resolves to. */
export function outboundUrlProblem(raw: string, allowInsecure: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `must be an absolute URL, got "${raw.slice(0, 100)}"`;
  }
  if (url.username || url.password) return 'must not carry credentials in the URL';
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an https URL';
  if (allowInsecure) return null;
  if (url.protocol !== 'https:') return 'must be an https URL (plain http needs WARDEN_ALLOW_INSECURE_JWKS_URIS, for development)';
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (METADATA_HOSTS.has(host.replace(/\.$/, '')) || (isIP(host) && isForbiddenAddress(host))) {
    return 'must not point at a link-local or cloud metadata address';
  }
  return null;
}

/** At write time: 422 naming the field (`Client.jwks_uri`) when Warden could not fetch `raw`. */
/** The settings an outbound URL is checked under (and so every IAM write rule: iam/write-rules.ts). */
export type WriteSettings = Pick<Config, 'allowInsecureJwksUris' | 'baseUrl'>;

export function checkOutboundUrl(field: string, raw: string, settings: WriteSettings | undefined): void {
  const problem = outboundUrlProblem(raw, settings?.allowInsecureJwksUris === true);
  if (problem) throw unprocessable(`${field} ${problem}`, [field]);
}

/**
 * Why Warden may not fetch `raw` now, or null: the URL's own checks, then every address its host resolves to,
 * so a name that points at a metadata address is refused too (what the fetch then connects to is resolved
 * again; this closes the plain case, not a DNS server that answers differently twice).
 */
export async function outboundProblemNow(raw: string, allowInsecure: boolean): Promise<string | null> {
  const problem = outboundUrlProblem(raw, allowInsecure);
  if (problem || allowInsecure) return problem;
  const host = new URL(raw).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return null;
  const addresses = await lookup(host, { all: true }).catch(() => []);
  return addresses.some(({ address }) => isForbiddenAddress(address)) ? `resolves to a link-local or cloud metadata address` : null;
}
