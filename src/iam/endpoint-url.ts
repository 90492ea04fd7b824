// URLs of another server that Warden calls with credentials or trusts for keys.
import { unprocessable } from '../resources/outcome.ts';

/**
 * Keys, tokens and secrets travel to these URLs, so they must be https; plain http is allowed only to this
 * machine, for a provider running beside Warden (and for tests).
 */
export function checkEndpointUrl(resourceType: string, field: string, raw: string): void {
  const invalid = (message: string) => unprocessable(`${resourceType}.${field} ${message}`, [`${resourceType}.${field}`]);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(`must be an absolute URL, got "${raw.slice(0, 100)}"`);
  }
  if (url.username || url.password) throw invalid('must not carry credentials in the URL');
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopback(url)) return;
  throw invalid('must be an https URL (plain http is allowed only to localhost)');
}

export const isLoopback = (url: URL) => ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
