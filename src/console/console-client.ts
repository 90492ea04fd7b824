// The console is a first-party public client of Warden itself: it logs in through /auth/authorize with PKCE,
// like any single-page app would. This makes (or repairs) its Client at start.
import { VersionConflict, type ResourceStore } from '../store/resource-store.ts';
import { applyWriteRules } from '../iam/write-rules.ts';

export const CONSOLE_CLIENT_ID = 'warden-console';

export function consoleRedirectUri(baseUrl: string): string {
  return `${baseUrl}/console/callback`;
}

export async function ensureConsoleClient(resources: ResourceStore, baseUrl: string): Promise<'created' | 'updated' | 'unchanged'> {
  const current = await resources.read('Client', CONSOLE_CLIENT_ID);
  const existing = current && !current.deleted ? current.resource : null;
  const redirectUri = consoleRedirectUri(baseUrl);
  const wanted = await applyWriteRules({
    resourceType: 'Client',
    id: CONSOLE_CLIENT_ID,
    name: 'Warden console',
    description: 'The admin console served at /console. Made at start; its redirect URI follows WARDEN_BASE_URL.',
    type: 'console',
    first_party: true,
    active: true,
    grant_types: ['authorization_code'],
    // A public client: no secret, so PKCE is what binds the code to the browser that asked for it (RFC 7636).
    auth: { authorization_code: { redirect_uri: redirectUri, pkce: true, secret_required: false, token_format: 'jwt', access_token_expiration: 3600 } },
  });
  if (existing && sameSettings(existing, wanted)) return 'unchanged';
  try {
    await resources.write(wanted, current?.versionId ?? null);
  } catch (error) {
    // Another process starting at the same moment wrote it first; its write is as good as ours.
    if (!(error instanceof VersionConflict)) throw error;
  }
  return existing ? 'updated' : 'created';
}

function sameSettings(existing: Record<string, unknown>, wanted: Record<string, unknown>): boolean {
  const { meta: _meta, ...rest } = existing;
  return canonical(rest) === canonical(wanted);
}

/** JSON with object keys sorted at every depth, so two equal resources give the same text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
