// FHIR OperationOutcome errors: one typed error, built by a few helpers, rendered in one place.

export type IssueCode =
  | 'invalid'
  | 'structure'
  | 'required'
  | 'value'
  | 'not-found'
  | 'deleted'
  | 'conflict'
  | 'not-supported'
  | 'too-long'
  | 'too-costly'
  | 'security'
  | 'login'
  | 'forbidden'
  | 'throttled'
  | 'exception'
  | 'invariant'
  | 'code-invalid'
  | 'processing'
  | 'informational';

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: { severity: 'error' | 'warning' | 'information'; code: IssueCode; diagnostics: string; expression?: string[] }[];
}

export class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly code: IssueCode,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly expression?: string[],
  ) {
    super(message);
  }

  get outcome(): OperationOutcome {
    return {
      resourceType: 'OperationOutcome',
      issue: [
        { severity: 'error', code: this.code, diagnostics: this.message, ...(this.expression && { expression: this.expression }) },
      ],
    };
  }
}

export const badRequest = (message: string, code: IssueCode = 'invalid', expression?: string[]) =>
  new FhirError(400, code, message, {}, expression);
export const unauthorized = (message: string, challenge: string) =>
  new FhirError(401, 'login', message, { 'www-authenticate': challenge });
export const forbidden = (message: string) => new FhirError(403, 'forbidden', message);
/** RFC 6750 §3.1: the token is valid but its scope is not enough. */
export const insufficientScope = (message: string) =>
  new FhirError(403, 'forbidden', message, {
    'www-authenticate': `Bearer error="insufficient_scope", error_description="${message.replace(/["\\]/g, '')}"`,
  });
export const notFound = (message: string) => new FhirError(404, 'not-found', message);
export const notAllowed = (message: string) => new FhirError(405, 'not-supported', message);
export const conflict = (message: string) => new FhirError(409, 'conflict', message);
export const gone = (message: string) => new FhirError(410, 'deleted', message);
export const preconditionFailed = (message: string) => new FhirError(412, 'conflict', message);
export const payloadTooLarge = (message: string) => new FhirError(413, 'too-long', message);
export const unsupportedMediaType = (message: string) => new FhirError(415, 'not-supported', message);
export const unprocessable = (message: string, expression?: string[]) =>
  new FhirError(422, 'invalid', message, {}, expression);
export const tooManyRequests = (message: string, retryAfterSeconds: number) =>
  new FhirError(429, 'throttled', message, { 'retry-after': String(retryAfterSeconds) });
