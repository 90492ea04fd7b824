import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

// Whatever a client puts in a search's query string, the answer is a Bundle or a 400 OperationOutcome.
for (const engine of engines()) {
  describe(`search with arbitrary values (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      await server.request('PUT', '/Observation/fz-1', {
        body: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '1' }] }, subject: { reference: 'Patient/p' }, effectiveDateTime: '2020' },
      });
    });
    after(() => server.close());

    const names = fc.constantFrom(
      'code', 'code:not', 'date', 'subject', 'subject:Patient', 'patient', 'value-string', 'value-string:exact',
      'value-string:contains', 'status:missing', '_id', '_lastUpdated', '_tag', '_profile', 'identifier', 'category:text', 'value-quantity', 'component-value-quantity:missing',
      'component-code-value-quantity', 'code-value-string', '_text', '_content', 'subject:Patient.name', 'patient.identifier', '_has:Observation:has-member:code', 'code:of-type', 'performer:identifier',
    );
    const values = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: fc.constantFrom(...'|,\\$:/-T+Z0123456789abegilnpqstx'.split('')), maxLength: 30 }),
      fc.constantFrom('ge2020', 'ap2020-02-30', 'eb0001', 'ap9999', 'ap0001-01-01T00:00+14:00', 'gt9999-12-31T23:59-14:00', 'sa9999-12-31T23:59:59+14:00', 'lt0001-01-01T00:00-14:00', '|', 'a|b|c', 'ap-1e999', '5e-999|x|y', 'ne0.00000000000000000001',  'Patient/', 'http://x/Patient/1'),
    );

    test('answers 200 with a Bundle or 400 with an OperationOutcome, never 500', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(names, values), { minLength: 1, maxLength: 3 }), async (pairs) => {
          const query = new URLSearchParams(pairs).toString();
          const response = await server.request('GET', `/Observation?${query}`);
          assert.ok(response.status === 200 || response.status === 400, `${query} → ${response.status} ${response.text}`);
          assert.equal(response.body.resourceType, response.status === 200 ? 'Bundle' : 'OperationOutcome');
        }),
        { numRuns: 150 },
      );
    });

    // A bare id matches a reference to each of the parameter's target types, and some parameters point at every
    // type (about 160 here): 500 such ids once made more bind parameters than a statement takes (65,535), a 500.
    test('as many bare ids as a search may have, on a parameter that points at every type, are one search', async () => {
      const ids = Array.from({ length: 500 }, (_, i) => `x${i}`).join(',');
      for (const path of [`/Provenance?target=${ids}`, `/List?item=${ids}`, `/AuditEvent?entity=${ids}`]) {
        const response = await server.request('GET', path);
        assert.equal(response.status, 200, `${path.slice(0, 40)} → ${response.text.slice(0, 200)}`);
        assert.equal(response.body.resourceType, 'Bundle');
      }
    });
  });
}
