// Validation problems as OperationOutcome issues, and the 422 that carries all of them at once.
import { FhirError, type OperationOutcome } from '../fhir/outcome.ts';

/** An OperationOutcome issue; its `expression` is the FHIRPath of the offending node. */
export type ValidationIssue = OperationOutcome['issue'][number];

/** At most this many issues are reported: enough to fix a resource, bounded for a hostile one. */
export const MAX_ISSUES = 100;

export function outcomeOf(issues: ValidationIssue[]): OperationOutcome {
  const shown = issues.slice(0, MAX_ISSUES);
  return {
    resourceType: 'OperationOutcome',
    issue: shown.length > 0 ? shown : [{ severity: 'information', code: 'informational', diagnostics: 'No issues found: the resource is valid' }],
  };
}

/** 422 Unprocessable Entity (http.html#create: a resource that violates the server's rules) with one issue per problem. */
export class ValidationFailed extends FhirError {
  constructor(readonly issues: ValidationIssue[]) {
    super(422, 'invalid', issues[0]?.diagnostics ?? 'The resource is invalid');
  }

  override get outcome(): OperationOutcome {
    return outcomeOf(this.issues);
  }
}
