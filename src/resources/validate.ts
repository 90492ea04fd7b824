// Checks on the parts of a resource request the server relies on: type, id, body shape, version preconditions.
import { newResourceId } from '../fhir/ids.ts';
import { auditEventsAreImmutable } from '../access/confined-resources.ts';
import type { Resource } from '../store/resource-store.ts';
import { badRequest, notAllowed, notFound, unsupportedMediaType } from '../fhir/outcome.ts';
import { RESOURCE_TYPES } from '../fhir/resource-types.ts';

const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * Sessions are made only by the token service: writing one through the API could bring a revoked session,
 * and with it its tokens, back to life. They can be read and ended (DELETE).
 */
export function checkWritableType(type: string): string {
  if (type === 'AuditEvent') throw auditEventsAreImmutable();
  if (type === 'Session') throw notAllowed('Sessions are made by the token service; end one with DELETE /Session/{id}');
  return checkType(type);
}

/** The audit trail is never changed through the API (the confined view refuses it too, for every entry point). */
export function checkDeletableType(type: string): string {
  if (type === 'AuditEvent') throw auditEventsAreImmutable();
  return checkType(type);
}

export function checkType(type: string): string {
  if (!RESOURCE_TYPES.has(type)) throw notFound(`Unknown resource type "${type.slice(0, 64)}"`);
  return type;
}

/**
 * FHIR's id syntax ([A-Za-z0-9\-.]{1,64}), without the dot segments "." and "..": a URL naming them
 * (`/Patient/..`, Location `/Patient/../_history/1`) resolves to another path in every client.
 */
export function checkId(id: string): string {
  if (id === '.' || id === '..') {
    throw badRequest(`Invalid id "${id}": "." and ".." are path segments, not ids`, 'value', ['id']);
  }
  if (!ID_PATTERN.test(id)) {
    throw badRequest(`Invalid id "${id.slice(0, 80)}": an id is 1 to 64 characters of A-Z, a-z, 0-9, "-" and "."`, 'value', ['id']);
  }
  return id;
}

/**
 * A resource is sent as JSON or YAML. The server also parses forms (for /auth/*), but a form's flat
 * strings are never a resource, so one sent here is refused rather than stored.
 */
export function checkResourceMediaType(contentType: string | undefined): void {
  if (contentType !== undefined && /^application\/x-www-form-urlencoded/i.test(contentType.trim())) {
    throw unsupportedMediaType('A resource is sent as JSON (application/fhir+json) or YAML (text/yaml), not as a form');
  }
}

/**
 * Checks a request body is a resource of `type` and gives it its id: `urlId` for PUT and PATCH
 * (the body may repeat it, not contradict it), the body's own id or a new one for POST.
 */
export function checkResourceBody(body: unknown, type: string, urlId?: string): Resource {
  if (body === undefined || body === null) throw badRequest(`The request has no body: send a ${type} resource`, 'required');
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest(`The body must be a JSON or YAML object, a ${type} resource`, 'structure');
  const resource = body as Record<string, unknown>;
  // Aidbox lets the body leave resourceType out, as the seeds' YAML does; the URL names the type.
  const resourceType = resource.resourceType ?? type;
  if (resourceType !== type) {
    throw badRequest(`resourceType "${String(resourceType).slice(0, 64)}" does not match the URL's type "${type}"`, 'invalid', ['resourceType']);
  }
  if (resource.id !== undefined && typeof resource.id !== 'string') throw badRequest('id must be a string', 'value', ['id']);
  if (urlId !== undefined && resource.id !== undefined && resource.id !== urlId) {
    throw badRequest(`The body's id "${String(resource.id).slice(0, 64)}" does not match the URL's id "${urlId}"`, 'invalid', ['id']);
  }
  if (resource.meta !== undefined && (typeof resource.meta !== 'object' || resource.meta === null || Array.isArray(resource.meta))) {
    throw badRequest('meta must be an object', 'structure', ['meta']);
  }
  const id = urlId ?? (resource.id as string | undefined) ?? newResourceId();
  return { ...resource, resourceType: type, id: checkId(id) };
}

/** The version named by an If-Match header (`W/"3"`, `"3"` or `3`), or undefined when there is none. */
export function ifMatchVersion(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = (Array.isArray(header) ? header[0] : header).trim();
  const match = /^(?:W\/)?"?([^"]*)"?$/.exec(value);
  if (!match || match[1] === '') throw badRequest(`Malformed If-Match header "${value.slice(0, 80)}": expected W/"<versionId>"`, 'value');
  return match[1];
}

/**
 * An AccessPolicy's SQL is checked against the database in a transaction of its own, which cannot run inside
 * another (a Bundle's, a conditional write's); such a patch is refused there, and made by id instead.
 */
export function checkPatchableInTransaction(type: string): void {
  if (type === 'AccessPolicy') throw badRequest('An AccessPolicy is patched on its own (PATCH /AccessPolicy/{id}), not by a search or in a Bundle', 'not-supported');
}
