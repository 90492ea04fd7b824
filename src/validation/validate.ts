// The one place a FHIR resource is validated: on every write (create, update, patch result) and by $validate.
// IAM types (Client, User, AccessPolicy...) are Aidbox's, not FHIR's: their own schemas check them (src/iam/).
import type { AppContext } from '../context.ts';
import { IAM_TYPES } from '../fhir/resource-types.ts';
import type { Resource } from '../store/resource-store.ts';
import { ValidationFailed, type ValidationIssue } from './issues.ts';
import { profileIssues } from './profiles.ts';
import { structureIssues } from './structure.ts';

const IAM = new Set<string>(IAM_TYPES);

export function isFhirType(type: string): boolean {
  return !IAM.has(type);
}

function claimedProfiles(resource: Resource): string[] {
  const profiles = resource.meta?.profile;
  return Array.isArray(profiles) ? profiles.filter((url): url is string => typeof url === 'string') : [];
}

/**
 * Every problem of `resource` against the R4 base definitions, the profiles it claims in meta.profile, and
 * `requiredProfiles`. A claimed profile Warden does not hold is a warning (the claim may be about a profile
 * elsewhere); a required one it does not hold is an error, since it cannot be checked.
 */
export async function resourceIssues(ctx: AppContext, resource: Resource, requiredProfiles: string[] = []): Promise<ValidationIssue[]> {
  const issues = structureIssues(resource);
  const claimed = claimedProfiles(resource);
  if (claimed.length === 0 && requiredProfiles.length === 0) return issues;
  const profiles = await profileIssues(ctx.resources, resource, [...claimed, ...requiredProfiles]);
  issues.push(...profiles.issues);
  for (const url of profiles.unknown) {
    const required = requiredProfiles.includes(url);
    issues.push({
      severity: required ? 'error' : 'warning',
      code: required ? 'not-found' : 'processing',
      diagnostics: `Profile ${url} is not a StructureDefinition stored in this server${required ? '' : ': it was not checked'}`,
      expression: [`${resource.resourceType}.meta.profile`],
    });
  }
  return issues;
}

/** Refuses a write of an invalid FHIR resource with 422 and all its problems, unless validation is turned off. */
export async function validateWrite(ctx: AppContext, resource: Resource): Promise<void> {
  if (!ctx.config.validateWrites || !isFhirType(resource.resourceType)) return;
  const errors = (await resourceIssues(ctx, resource)).filter((issue) => issue.severity === 'error');
  if (errors.length > 0) throw new ValidationFailed(errors);
}
