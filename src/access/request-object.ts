// The request object: one plain JSON value describing a request, built once, and the only thing a policy
// sees. Field names follow Aidbox's (request-method, uri, params, resource/type, ...), so policies written
// for Aidbox work here unchanged.
import type { FastifyRequest } from 'fastify';
import type { Identity } from '../authn/identity.ts';
import { BULK_DATA_ROUTES, FHIR_ROUTES, OTHER_OPERATIONS } from '../fhir/interactions.ts';
import type { Resource } from '../store/resource-store.ts';

export interface RequestObject {
  'request-method': string;
  uri: string;
  scheme: string;
  'query-string'?: string;
  params: Record<string, unknown>;
  body?: unknown;
  resource?: unknown;
  headers: Record<string, string>;
  'remote-addr'?: string;
  user?: Record<string, unknown>;
  client?: Record<string, unknown>;
  session?: Record<string, unknown>;
  jwt?: Record<string, unknown>;
  /** The RFC 7662 introspection answer for an external opaque token. */
  token?: Record<string, unknown>;
  scopes?: string[];
  operation?: { id: string };
  /** For an entry of a batch or transaction Bundle: which Bundle, and which entry of it. */
  bundle?: BundleEntryOf;
}

/** Names the Bundle entry a request comes from, for policies (`bundle.type`, `bundle.entry`). */
export interface BundleEntryOf {
  type: 'batch' | 'transaction';
  /** The entry's index in Bundle.entry. */
  entry: number;
  fullUrl?: string;
}

/** Named operations, by method and route pattern; policies can be linked to them (link: Operation/FhirRead). */
const OPERATIONS: [method: string, route: string, id: string][] = [
  ...OTHER_OPERATIONS.map(({ method, url, operation }): [string, string, string] => [method, url, operation]),
  // Before the FHIR patterns: /Patient/$export is a route of its own, not a read of Patient "$export".
  ...BULK_DATA_ROUTES.map(({ method, url, operation }): [string, string, string] => [method, url, operation]),
  ...FHIR_ROUTES.map(({ method, url, operation }): [string, string, string] => [method, url, operation]),
];

export function operationOf(method: string, route: string | undefined): { id: string } | undefined {
  const upper = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  const found = OPERATIONS.find(([m, r]) => m === upper && r === route);
  return found && { id: found[2] };
}

/**
 * Matches a path against the route patterns above, for requests that are described rather than received
 * (POST /auth/test-policy). Static routes are listed first, so they win over patterns as in the router.
 */
export function routeOf(method: string, path: string): { route?: string; params: Record<string, string> } {
  const segments = path.split('/').slice(1);
  const upper = method.toUpperCase();
  for (const [m, route] of OPERATIONS) {
    if (m !== upper) continue;
    const parts = route.split('/').slice(1);
    if (parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = parts.every((part, i) => {
      if (part.startsWith(':')) {
        if (segments[i] === '') return false;
        // A segment that is not valid percent-encoding names no route, as the router answers 400 for it.
        try {
          params[part.slice(1)] = decodeURIComponent(segments[i]);
        } catch {
          return false;
        }
        return true;
      }
      return part === segments[i];
    });
    if (matches) return { route, params };
  }
  return { params: {} };
}

/** Headers that carry credentials: the identity fields describe the caller, the secrets stay out of traces. */
const HIDDEN_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);
/** Fields of IAM resources that hold (hashed) secrets, never shown to a policy or in a trace. */
const SECRET_FIELDS = new Set(['secret', 'password']);

function withoutSecrets(resource: Resource | undefined): Record<string, unknown> | undefined {
  if (!resource) return undefined;
  const copy: Record<string, unknown> = {};
  for (const key in resource) if (Object.hasOwn(resource, key) && !SECRET_FIELDS.has(key)) copy[key] = resource[key];
  return copy;
}

function queryParams(queryString: string): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(queryString)) {
    const seen = params[key];
    params[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return params;
}

export interface RequestDescription {
  method: string;
  /** Path and query string, as on the request line. */
  url: string;
  scheme?: string;
  headers?: Record<string, string | string[] | undefined>;
  body?: unknown;
  remoteAddr?: string;
  /** The route pattern the router matched, when known; otherwise the path is matched against the known routes. */
  route?: string;
  routeParams?: Record<string, string>;
  identity?: Partial<Identity> | null;
  /** Names of the Roles the user holds. */
  roles?: string[];
  bundle?: BundleEntryOf;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * The path as the router understood it: the matched route with its decoded parameters put back, else every
 * segment decoded. A policy matching `/Observation` must also see `/%4Fbservation` (OWASP ASVS 5.0 V8.2:
 * authorization decisions on the canonical form of the request).
 */
function canonicalPath(path: string, route: string | undefined, params: Record<string, string>): string {
  if (route === undefined) return path.split('/').map(decodeSegment).join('/');
  return route.replace(/:([A-Za-z0-9_]+)|\*/g, (whole, name: string | undefined) => params[name ?? '*'] ?? whole);
}

export function buildRequestObject(described: RequestDescription): RequestObject {
  const queryAt = described.url.indexOf('?');
  const path = queryAt < 0 ? described.url : described.url.slice(0, queryAt);
  const queryString = queryAt < 0 ? '' : described.url.slice(queryAt + 1);
  // HEAD is GET without the body (RFC 9110 §9.3.2): it is allowed exactly when GET is.
  const method = described.method.toUpperCase() === 'HEAD' ? 'GET' : described.method;
  const matched = described.route === undefined ? routeOf(method, path) : undefined;
  const route = described.route ?? matched?.route;
  const routeParams = described.routeParams ?? matched?.params ?? {};
  const uri = canonicalPath(path, route, routeParams);

  const params: Record<string, unknown> = queryParams(queryString);
  if (routeParams.type !== undefined) params['resource/type'] = routeParams.type;
  if (routeParams.id !== undefined) params['resource/id'] = routeParams.id;
  if (routeParams.versionId !== undefined) params['resource/version-id'] = routeParams.versionId;

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(described.headers ?? {})) {
    const key = name.toLowerCase();
    if (value === undefined || HIDDEN_HEADERS.has(key)) continue;
    headers[key] = Array.isArray(value) ? value.join(', ') : value;
  }

  const identity = described.identity ?? undefined;
  const user = withoutSecrets(identity?.user);
  if (user && described.roles && described.roles.length > 0) user.role = described.roles;
  const body = described.body;
  const isResource = body !== null && typeof body === 'object' && !Array.isArray(body) && 'resourceType' in body;

  const object: RequestObject = {
    'request-method': method.toLowerCase(),
    uri,
    scheme: described.scheme ?? 'http',
    params,
    headers,
  };
  if (queryString !== '') object['query-string'] = queryString;
  if (body !== undefined) object.body = body;
  if (isResource) object.resource = body;
  if (described.remoteAddr !== undefined) object['remote-addr'] = described.remoteAddr;
  if (user) object.user = user;
  if (identity?.client) object.client = withoutSecrets(identity.client);
  if (identity?.session) object.session = withoutSecrets(identity.session);
  if (identity?.jwt) object.jwt = identity.jwt;
  if (identity?.introspection) object.token = identity.introspection;
  if (identity?.scopes) object.scopes = identity.scopes;
  const operation = operationOf(method, route);
  if (operation) object.operation = operation;
  if (described.bundle) object.bundle = described.bundle;
  return object;
}

/** Describes a received request; the router has already matched its route and parameters. */
export function describeRequest(request: FastifyRequest, roles: string[]): RequestDescription {
  return {
    method: request.method,
    url: request.url,
    scheme: request.protocol,
    headers: request.headers,
    body: request.body,
    remoteAddr: request.ip,
    route: request.routeOptions.url,
    routeParams: (request.params ?? {}) as Record<string, string>,
    identity: request.identity,
    roles,
  };
}
