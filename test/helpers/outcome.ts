// Assertions on FHIR OperationOutcome answers: the status, and a diagnostics message that says what was wrong.
import assert from 'node:assert/strict';
import type { Response } from './server.ts';

export function assertOutcome(response: Response, status: number, diagnostics: RegExp): void {
  assert.equal(response.status, status, `expected ${status}, got ${response.status}: ${response.text}`);
  assert.equal(response.body?.resourceType, 'OperationOutcome', response.text);
  assert.equal(response.body.issue[0].severity, 'error');
  assert.match(response.body.issue[0].diagnostics, diagnostics);
  assert.doesNotMatch(response.text, /at .*\.ts:\d+/, 'no stack trace in an answer');
}
