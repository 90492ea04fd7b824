import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

// The parsers of _include/_revinclude, chains and _has, _sort, _summary and _elements meet whatever a client
// sends: the answer is a Bundle or a 400 OperationOutcome, never a 5xx (OWASP ASVS 5.0 V1.5.3, V16.5.3).
const piece = fc.constantFrom(
  'Observation', 'Patient', 'Practitioner', 'subject', 'patient', 'performer', 'has-member', 'organization', 'name', 'code',
  'date', '_id', '_has', '*', 'iterate', 'Nope', '', '-', '.', ':', ',', '|', '\\', '%', 'identifier', 'text', 'of-type',
);
const joined = (separators: string) =>
  fc.array(fc.oneof(piece, fc.constantFrom(...separators.split('')), fc.string({ maxLength: 6 })), { maxLength: 8 }).map((parts) => parts.join(''));

for (const engine of engines()) {
  describe(`result parameters with arbitrary values (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      await server.request('PUT', '/Patient/rp-p', { body: { resourceType: 'Patient', name: [{ family: 'Smith' }] } });
      await server.request('PUT', '/Observation/rp-o', {
        body: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/rp-p' }, effectiveDateTime: '2020' },
      });
    });
    after(() => server.close());

    const answersWithoutError = async (type: string, pairs: [string, string][]) => {
      const query = new URLSearchParams(pairs).toString();
      const response = await server.request('GET', `/${type}?${query}`);
      assert.ok(response.status === 200 || response.status === 400, `${type}?${query} → ${response.status} ${response.text}`);
      assert.equal(response.body.resourceType, response.status === 200 ? 'Bundle' : 'OperationOutcome');
    };

    test('_include, _revinclude and their :iterate', async () => {
      const name = fc.constantFrom('_include', '_revinclude', '_include:iterate', '_revinclude:iterate', '_include:recurse', '_include:x');
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('Observation', 'Patient'), fc.array(fc.tuple(name, joined(':')), { minLength: 1, maxLength: 3 }), answersWithoutError),
        { numRuns: 60 },
      );
    });

    test('chained and reverse-chained parameter names', async () => {
      const chainName = joined('.:');
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('Observation', 'Patient'), fc.array(fc.tuple(chainName, fc.string({ maxLength: 12 })), { minLength: 1, maxLength: 2 }), answersWithoutError),
        { numRuns: 80 },
      );
    });

    test('_sort, _summary, _elements and _total', async () => {
      const name = fc.constantFrom('_sort', '_summary', '_elements', '_total', '_count');
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('Observation', 'Patient'), fc.array(fc.tuple(name, joined(',-')), { minLength: 1, maxLength: 3 }), answersWithoutError),
        { numRuns: 60 },
      );
    });
  });
}
