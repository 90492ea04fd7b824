// PATCH bodies: JSON Patch (RFC 6902) as an array of operations, FHIRPath Patch as a Parameters resource
// (fhirpath-patch.ts), or JSON Merge Patch (RFC 7396) as any other object.
import fastJsonPatch from 'fast-json-patch';
import type { Resource } from '../store/resource-store.ts';
import { badRequest, unprocessable } from '../fhir/outcome.ts';
import { applyFhirPathPatch, isFhirPathPatch } from './fhirpath-patch.ts';

const { applyPatch, JsonPatchError } = fastJsonPatch;

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** Applies `patch` to `current`; the caller re-checks the result like any other body. */
export function applyResourcePatch(current: Resource, patch: unknown, contentType: string): unknown {
  if (isFhirPathPatch(patch)) return applyFhirPathPatch(current, patch);
  const jsonPatch = contentType.startsWith('application/json-patch+json') || Array.isArray(patch);
  if (contentType.startsWith('application/json-patch+json') && !Array.isArray(patch)) {
    throw badRequest('A JSON Patch body must be an array of operations', 'structure');
  }
  if (!jsonPatch) {
    if (patch === null || typeof patch !== 'object') throw badRequest('A merge patch body must be an object', 'structure');
    return mergePatch(current, patch);
  }
  try {
    return applyPatch(structuredClone(current), patch as fastJsonPatch.Operation[], true, true).newDocument;
  } catch (error) {
    if (error instanceof JsonPatchError) {
      const failedTest = error.name === 'TEST_OPERATION_FAILED';
      const detail = error.message.split('\n')[0];
      throw failedTest
        ? unprocessable(`JSON Patch test failed at operation ${error.index}: ${detail}`)
        : badRequest(`Invalid JSON Patch at operation ${error.index ?? 0}: ${detail}`, 'invalid');
    }
    throw badRequest(`Invalid JSON Patch: ${(error as Error).message}`, 'invalid');
  }
}
