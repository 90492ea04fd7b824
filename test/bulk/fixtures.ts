// An export as a Bulk Data client drives it: kick-off, polling the status URL until the manifest, downloads.
import assert from 'node:assert/strict';
import { eventually } from '../helpers/oauth.ts';
import { basic, ROOT, type Response, type TestServer } from '../helpers/server.ts';

export const ASYNC = { prefer: 'respond-async', accept: 'application/fhir+json' };

export interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: { type: string; url: string; count: number }[];
  error: unknown[];
}

export const bearerHeader = (token: string) => ({ authorization: `Bearer ${token}` });

/** GET with a bearer token (or the root client's Basic credentials when `token` is undefined). */
export function get(server: TestServer, path: string, token?: string, headers: Record<string, string> = {}): Promise<Response> {
  return server.request('GET', path, token === undefined ? { headers } : { auth: null, headers: { ...bearerHeader(token), ...headers } });
}

/** Kicks off an export and returns its status path (202 and Content-Location checked). */
export async function kickOff(server: TestServer, path: string, token?: string): Promise<string> {
  const response = await get(server, path, token, ASYNC);
  assert.equal(response.status, 202, response.text);
  const location = response.headers.get('content-location');
  assert.ok(location?.startsWith(`${server.url}/$export-status/`), String(location));
  return location!.slice(server.url.length);
}

/** Polls the status URL until it answers 200 with the manifest (202 with X-Progress meanwhile). */
export async function manifestOf(server: TestServer, statusPath: string, token?: string): Promise<Manifest> {
  let manifest: Manifest | undefined;
  await eventually(async () => {
    const response = await get(server, statusPath, token);
    if (response.status === 202) {
      assert.ok(response.headers.get('x-progress'), 'a 202 status carries X-Progress');
      assert.ok(response.headers.get('retry-after'), 'a 202 status carries Retry-After');
      return false;
    }
    assert.equal(response.status, 200, response.text);
    manifest = JSON.parse(response.text) as Manifest;
    return true;
  }, 60_000);
  return manifest!;
}

/** An output file as text (NDJSON is not one JSON document). */
export async function download(server: TestServer, url: string, token?: string): Promise<{ status: number; headers: Headers; text: string }> {
  const authorization = token === undefined ? basic(ROOT.id, ROOT.secret) : `Bearer ${token}`;
  const response = await fetch(url, { headers: { authorization } });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Every resource of every output file, downloaded with `token`, as type/id strings sorted. */
export async function exported(server: TestServer, manifest: Manifest, token?: string): Promise<string[]> {
  const ids: string[] = [];
  for (const file of manifest.output) {
    const response = await download(server, file.url, token);
    assert.equal(response.status, 200, response.text);
    assert.match(response.headers.get('content-type') ?? '', /^application\/fhir\+ndjson/);
    const lines = response.text.split('\n').filter(Boolean);
    assert.equal(lines.length, file.count, `${file.type}: the manifest's count is the file's`);
    for (const line of lines) {
      const resource = JSON.parse(line) as { resourceType: string; id: string };
      assert.equal(resource.resourceType, file.type);
      ids.push(`${resource.resourceType}/${resource.id}`);
    }
  }
  return ids.sort();
}
