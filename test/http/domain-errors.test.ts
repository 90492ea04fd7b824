// Domain errors (src/errors.ts) carry no HTTP; each surface has one renderer. The same refusal reads as a FHIR
// OperationOutcome on the API (RFC 7235 §4.1 challenge, RFC 6585 §4 Retry-After) and as RFC 6749 §5.2 JSON on /auth.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidCredentials, InvalidToken, Throttled, UnstorableText } from '../../src/errors.ts';
import { badRequest } from '../../src/fhir/outcome.ts';
import { asFhirError } from '../../src/http/errors.ts';
import { asOAuthError } from '../../src/oauth/errors.ts';

test('refused Basic credentials: 401 login with the Basic challenge on the API, invalid_client on /auth', () => {
  const refusal = new InvalidCredentials('Invalid client credentials', 'Basic');
  const fhir = asFhirError(refusal)!;
  assert.equal(fhir.status, 401);
  assert.equal(fhir.code, 'login');
  assert.equal(fhir.message, 'Invalid client credentials');
  assert.equal(fhir.headers['www-authenticate'], 'Basic realm="warden", charset="UTF-8"');
  const oauth = asOAuthError(refusal)!;
  assert.deepEqual(oauth.body, { error: 'invalid_client', error_description: 'Invalid client credentials' });
  assert.equal(oauth.status, 401);
  assert.equal(oauth.headers['www-authenticate'], 'Basic realm="warden", charset="UTF-8"');
});

test('a refused token carries RFC 6750 invalid_token in its challenge, its description made safe', () => {
  const fhir = asFhirError(new InvalidToken('The access token is "bad"'))!;
  assert.equal(fhir.status, 401);
  assert.equal(fhir.headers['www-authenticate'], 'Bearer realm="warden", error="invalid_token", error_description="The access token is  bad "');
});

test('an unsupported scheme is challenged with both schemes', () => {
  const fhir = asFhirError(new InvalidCredentials('Unsupported authorization scheme "Digest": use Basic or Bearer', 'Basic or Bearer'))!;
  assert.equal(fhir.headers['www-authenticate'], 'Basic realm="warden", charset="UTF-8", Bearer realm="warden"');
});

test('throttled: 429 with Retry-After on both surfaces, in each surface\'s words', () => {
  const fhir = asFhirError(new Throttled(7))!;
  assert.equal(fhir.status, 429);
  assert.equal(fhir.code, 'throttled');
  assert.equal(fhir.headers['retry-after'], '7');
  const oauth = asOAuthError(new Throttled(7))!;
  assert.equal(oauth.status, 429);
  assert.deepEqual(oauth.body, { error: 'slow_down', error_description: 'Too many failed authentications; retry after 7 seconds' });
});

test('text the store cannot hold is the caller\'s mistake: 400, never a 500', () => {
  const refusal = new UnstorableText('Text may not contain the NUL character (U+0000)');
  assert.deepEqual(asFhirError(refusal)!.outcome, badRequest('Text may not contain the NUL character (U+0000)', 'value').outcome);
  assert.deepEqual(asOAuthError(refusal)!.body, { error: 'invalid_request', error_description: 'Text may not contain the NUL character (U+0000)' });
});

test('what is not a known error is left to the 500 path on both surfaces', () => {
  assert.equal(asFhirError(new Error('boom')), null);
  assert.equal(asOAuthError(new Error('boom')), null);
});
