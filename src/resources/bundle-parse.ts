// Reads a batch or transaction Bundle (FHIR R4 §3.1.0.11) into the requests its entries make. Anything a
// client can send is answered 4xx with the entry it concerns: the Bundle as a whole (400, 413, 415), or one
// entry, kept on that entry so a batch can answer it alone.
import { FhirError, badRequest, notAllowed, payloadTooLarge } from '../fhir/outcome.ts';
import { checkId, checkResourceMediaType, checkType, checkWritableType, ifMatchVersion } from './validate.ts';
import { DEFAULT_COUNT, MAX_COUNT } from './search.ts';

export interface BundleEntry {
  /** Index in Bundle.entry. */
  index: number;
  fullUrl?: string;
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Relative URL, path and query: `Patient/1`, `Patient?identifier=x`. */
  url: string;
  type: string;
  id?: string;
  versionId?: string;
  /** The query string, without `?`. */
  query: string;
  /** The entry's resource, for POST and PUT. */
  body?: unknown;
  /** The id the body of a conditional update names, if any. */
  bodyId?: string;
  ifMatch?: string;
  ifNoneExist?: string;
  /** The entry's request headers (Bundle.entry.request.ifMatch...), as a policy sees them. */
  headers: Record<string, string>;
  /** PATCH: the patch document and its media type. */
  patch?: unknown;
  patchType: string;
  /** GET of a search: the page size. */
  count: number;
  /** Given to a transaction's POST that has a urn fullUrl, before anything is written. */
  assignedId?: string;
  /** The entry cannot be carried out; a batch answers it with this. */
  error?: FhirError;
}

export interface ParsedBundle {
  type: 'batch' | 'transaction';
  entries: BundleEntry[];
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The patch a PATCH entry carries: a Binary holding a JSON Patch (base64), or a FHIRPath Patch (Parameters). */
function patchOf(resource: unknown): { patch: unknown; patchType: string } {
  if (!isObject(resource)) throw badRequest('A PATCH entry carries its patch as entry.resource: a FHIRPath Patch (Parameters) or a Binary with a JSON Patch', 'required');
  if (resource.resourceType === 'Binary') {
    const contentType = typeof resource.contentType === 'string' ? resource.contentType : 'application/json-patch+json';
    if (typeof resource.data !== 'string') throw badRequest('The Binary of a PATCH entry has no data (base64 JSON Patch)', 'required');
    let patch: unknown;
    try {
      patch = JSON.parse(Buffer.from(resource.data, 'base64').toString('utf8'));
    } catch {
      throw badRequest('The Binary of a PATCH entry does not hold JSON in base64', 'structure');
    }
    return { patch, patchType: contentType };
  }
  if (resource.resourceType === 'Parameters') return { patch: resource, patchType: 'application/fhir+json' };
  throw badRequest(`A PATCH entry's resource must be a Parameters or a Binary, not ${String(resource.resourceType).slice(0, 64)}`, 'invalid');
}

/** The entry's URL relative to the server: `Patient/1`; an absolute URL must be this server's. */
function relativeUrl(url: string, baseUrl: string): string {
  if (url.startsWith(`${baseUrl}/`)) return url.slice(baseUrl.length + 1);
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) throw badRequest(`Entry URL ${url.slice(0, 200)} is not on this server (${baseUrl})`, 'value');
  return url.replace(/^\/+/, '');
}

function countOf(query: URLSearchParams): number {
  const raw = query.get('_count');
  if (raw === null) return DEFAULT_COUNT;
  const count = Number(raw);
  if (!/^\d+$/.test(raw) || count > MAX_COUNT) throw badRequest(`_count must be an integer from 0 to ${MAX_COUNT}`, 'value', ['_count']);
  return count;
}

function parseEntry(raw: unknown, index: number, baseUrl: string, entry: BundleEntry): void {
  if (!isObject(raw)) throw badRequest('An entry must be an object', 'structure');
  if (raw.fullUrl !== undefined) {
    if (typeof raw.fullUrl !== 'string') throw badRequest('entry.fullUrl must be a string', 'value');
    entry.fullUrl = raw.fullUrl;
  }
  const request = raw.request;
  if (!isObject(request)) throw badRequest('Each entry of a batch or transaction needs a request (method and url)', 'required');
  const method = typeof request.method === 'string' ? request.method.toUpperCase() : '';
  if (!METHODS.has(method)) throw badRequest(`entry.request.method must be one of ${[...METHODS].join(', ')}`, 'value');
  if (typeof request.url !== 'string' || request.url === '') throw badRequest('entry.request.url must be a non-empty string', 'required');
  entry.method = method as BundleEntry['method'];
  entry.url = relativeUrl(request.url, baseUrl);
  const at = entry.url.indexOf('?');
  const path = at < 0 ? entry.url : entry.url.slice(0, at);
  entry.query = at < 0 ? '' : entry.url.slice(at + 1);
  const segments = path.split('/');
  const writes = method !== 'GET' && method !== 'HEAD';
  entry.type = writes && method !== 'DELETE' ? checkWritableType(segments[0]) : checkType(segments[0]);
  const history = segments.length === 4 && segments[2] === '_history';
  if (segments.length > 4 || segments.length === 3 || (segments.length === 4 && (!history || writes))) {
    throw badRequest(`entry.request.url ${path.slice(0, 200)} names no resource or search this server answers in a Bundle`, 'not-supported');
  }
  if (segments.length >= 2) entry.id = checkId(segments[1]);
  if (history) entry.versionId = segments[3];
  for (const [name, header] of [['ifMatch', 'if-match'], ['ifNoneExist', 'if-none-exist'], ['ifNoneMatch', 'if-none-match'], ['ifModifiedSince', 'if-modified-since']] as const) {
    const value = request[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw badRequest(`entry.request.${name} must be a string`, 'value');
    entry.headers[header] = value;
  }
  if (entry.headers['if-match'] !== undefined) entry.ifMatch = ifMatchVersion(entry.headers['if-match']);
  if (entry.headers['if-none-exist'] !== undefined) {
    if (method !== 'POST') throw badRequest('ifNoneExist is for a POST entry (conditional create)', 'invalid');
    entry.ifNoneExist = entry.headers['if-none-exist'];
  }
  if (method === 'POST' && (entry.id !== undefined || entry.query !== '')) throw notAllowed(`POST ${path.slice(0, 200)}: a create is posted to the type (${entry.type})`);
  if ((method === 'PUT' || method === 'PATCH' || method === 'DELETE') && entry.id === undefined && entry.query === '') {
    throw badRequest(`${method} ${entry.type} needs an id or a search (conditional ${method.toLowerCase()})`, 'required');
  }
  if (method === 'POST' || method === 'PUT') {
    if (!isObject(raw.resource)) throw badRequest(`A ${method} entry needs its resource`, 'required');
    entry.body = raw.resource;
    if (typeof raw.resource.id === 'string' && entry.id === undefined) entry.bodyId = raw.resource.id;
  }
  if (method === 'PATCH') Object.assign(entry, patchOf(raw.resource));
  if (method === 'GET' || method === 'HEAD') entry.count = countOf(new URLSearchParams(entry.query));
}

/** The Bundle of a POST /; 413 past `maxEntries`. */
export function parseBundle(body: unknown, baseUrl: string, maxEntries: number, contentType: string | undefined): ParsedBundle {
  checkResourceMediaType(contentType);
  if (!isObject(body)) throw badRequest('POST / takes a Bundle of type batch or transaction', 'structure');
  if (body.resourceType !== 'Bundle') throw badRequest(`POST / takes a Bundle, not ${String(body.resourceType).slice(0, 64)}`, 'invalid', ['resourceType']);
  if (body.type !== 'batch' && body.type !== 'transaction') {
    throw badRequest(`Bundle.type must be batch or transaction, got "${String(body.type).slice(0, 40)}"`, 'value', ['Bundle.type']);
  }
  if (body.entry !== undefined && !Array.isArray(body.entry)) throw badRequest('Bundle.entry must be an array', 'structure', ['Bundle.entry']);
  const raw = (body.entry ?? []) as unknown[];
  if (raw.length > maxEntries) {
    throw payloadTooLarge(`The Bundle has ${raw.length} entries, more than the limit of ${maxEntries} (WARDEN_BUNDLE_MAX_ENTRIES); send it in parts`);
  }
  const entries = raw.map((item, index) => {
    const entry: BundleEntry = { index, method: 'GET', url: '', type: '', query: '', headers: {}, patchType: '', count: DEFAULT_COUNT };
    try {
      parseEntry(item, index, baseUrl, entry);
    } catch (error) {
      if (!(error instanceof FhirError)) throw error;
      entry.error = error;
    }
    return entry;
  });
  if (body.type === 'transaction') {
    const fullUrls = new Set<string>();
    for (const entry of entries) {
      if (entry.fullUrl === undefined || entry.error) continue;
      if (fullUrls.has(entry.fullUrl)) entry.error = badRequest(`fullUrl ${entry.fullUrl.slice(0, 200)} appears in more than one entry`, 'invalid');
      fullUrls.add(entry.fullUrl);
    }
  }
  return { type: body.type, entries };
}
