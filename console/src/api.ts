// The console's only way to the server: the normal REST API, with the Bearer token of the person logged in.
import { accessToken, forget } from './auth.ts';
import type { Resource } from './resource.ts';

export type { Resource };

interface Bundle {
  total?: number;
  entry?: { resource: Resource }[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

/** Set by main.ts: what to do when the token is gone or refused (log in again). */
let onUnauthenticated: () => void = () => {};
export function whenUnauthenticated(handler: () => void): void {
  onUnauthenticated = handler;
}

/** The message a person can act on: OperationOutcome diagnostics, or an OAuth error description. */
function messageOf(status: number, body: unknown): string {
  if (body && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    const issues = record.issue as { diagnostics?: string; expression?: string[] }[] | undefined;
    if (Array.isArray(issues) && issues.length) {
      return issues.map((issue) => issue.diagnostics ?? 'error').join('; ');
    }
    if (typeof record.error_description === 'string') return record.error_description;
    if (typeof record.error === 'string') return record.error;
  }
  return `The server answered HTTP ${status}`;
}

export async function call<T = unknown>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<T> {
  const token = accessToken();
  if (!token) {
    onUnauthenticated();
    throw new ApiError(401, 'Your console session ended; logging in again.', null);
  }
  const headers: Record<string, string> = { ...extraHeaders, accept: 'application/json', authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: keep the text, it is still the best description of what went wrong.
  }
  if (response.status === 401) {
    forget();
    onUnauthenticated();
  }
  if (!response.ok) throw new ApiError(response.status, messageOf(response.status, parsed), parsed);
  return parsed as T;
}

export async function list(type: string, count = 200, sort = '_id'): Promise<Resource[]> {
  const bundle = await call<Bundle>('GET', `/${type}?_count=${count}&_sort=${sort}`);
  return (bundle.entry ?? []).map((entry) => entry.resource);
}

export const read = (type: string, id: string) => call<Resource>('GET', `/${type}/${encodeURIComponent(id)}`);
/** POST, so an id already taken is refused (409) rather than overwritten. */
export const create = (resource: Resource) => call<Resource>('POST', `/${resource.resourceType}`, resource);

/** PUT with If-Match on the version that was read, so a change made meanwhile by someone else is not lost. */
export function update(resource: Resource): Promise<Resource> {
  const version = resource.meta?.versionId;
  const { meta: _meta, ...body } = resource;
  return call<Resource>('PUT', `/${resource.resourceType}/${encodeURIComponent(resource.id!)}`, body, version ? { 'if-match': `W/"${version}"` } : {});
}
export const remove = (type: string, id: string) => call<unknown>('DELETE', `/${type}/${encodeURIComponent(id)}`);
