// POST / parses whatever a caller sends as a Bundle, PATCH whatever it sends as a FHIRPath Patch: any JSON body,
// Bundles whose entries hold anything, Parameters whose operations hold anything, are answered 2xx or 4xx, never
// 5xx (OWASP ASVS 5.0 V1.2 / V2.2: input validated at the trusted layer, errors handled without failing open or
// crashing). Property-based, against the real server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const hostile = (alphabet: string) =>
  fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: fc.constantFrom(...alphabet.split('')), maxLength: 40 }));

const methods = fc.oneof(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'get', 'FETCH'), fc.jsonValue({ maxDepth: 1 }));
const urls = fc.oneof(
  fc.constantFrom('Patient', 'Patient/1', 'Patient?identifier=a|b', 'Patient/1/_history/1', 'Observation?subject=urn:uuid:x', 'http://elsewhere/Patient', '/Patient/..', 'Patient/_history', '', '?', 'Patient?_count=-1'),
  hostile('Patient/?=&|_%:.-1'),
  fc.jsonValue({ maxDepth: 1 }),
);
const references = fc.oneof(fc.constantFrom('urn:uuid:a', 'Patient?identifier=a|b', 'Patient?', 'Patient/1', '#x'), hostile('urn:uid?=|/'));
const resources = fc.oneof(
  fc.record({ resourceType: fc.constantFrom('Patient', 'Observation', 'Binary', 'Parameters', 'AccessPolicy', 'Bundle', 'Session'), id: fc.option(hostile('a1.-'), { nil: undefined }), subject: fc.record({ reference: references }), data: fc.option(fc.base64String({ maxLength: 40 }), { nil: undefined }) }, { requiredKeys: ['resourceType'] }),
  fc.jsonValue({ maxDepth: 3 }),
);
const entries = fc.array(
  fc.oneof(
    fc.record({
      fullUrl: fc.option(fc.oneof(fc.constantFrom('urn:uuid:a', 'urn:oid:1.2'), hostile('urn:uid')), { nil: undefined }),
      resource: fc.option(resources, { nil: undefined }),
      request: fc.oneof(fc.record({ method: methods, url: urls, ifNoneExist: fc.option(hostile('a=|b'), { nil: undefined }), ifMatch: fc.option(hostile('W/"1'), { nil: undefined }) }, { requiredKeys: ['method', 'url'] }), fc.jsonValue({ maxDepth: 2 })),
    }),
    fc.jsonValue({ maxDepth: 2 }),
  ),
  { maxLength: 6 },
);
const bodies = fc.oneof(
  fc.record({ resourceType: fc.constantFrom('Bundle'), type: fc.oneof(fc.constantFrom('batch', 'transaction'), fc.jsonValue({ maxDepth: 1 })), entry: fc.oneof(entries, fc.jsonValue({ maxDepth: 2 })) }),
  fc.jsonValue({ maxDepth: 4 }),
);

const fhirPathPatches = fc.record({
  resourceType: fc.constant('Parameters'),
  parameter: fc.array(
    fc.oneof(
      fc.record({
        name: fc.constantFrom('operation', 'op'),
        part: fc.array(
          fc.oneof(
            fc.record({ name: fc.constant('type'), valueCode: fc.constantFrom('add', 'insert', 'delete', 'replace', 'move', 'x') }),
            fc.record({ name: fc.constant('path'), valueString: fc.oneof(fc.constantFrom('Patient', 'Patient.name', 'Patient.name[0]', 'Patient.name.given', 'Patient.gender', '%resource', 'Patient.name.where(', 'now()'), hostile('Patient.name()[]0\'=')) }),
            fc.record({ name: fc.constantFrom('name', 'index', 'source', 'destination', 'value'), valueString: fc.string({ maxLength: 10 }), valueInteger: fc.integer({ min: -2, max: 5 }) }, { requiredKeys: ['name'] }),
            fc.jsonValue({ maxDepth: 2 }),
          ),
          { maxLength: 6 },
        ),
      }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    { maxLength: 4 },
  ),
});

describe('the Bundle and FHIRPath Patch parsers answer any body 2xx or 4xx (pglite)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('pglite');
    await server.request('PUT', '/Patient/fuzzed', { body: { resourceType: 'Patient', name: [{ family: 'F', given: ['a', 'b'] }], gender: 'male' } });
  });
  after(() => server.close());

  test('never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const answer = await server.request('POST', '/', { raw: JSON.stringify(body) });
        assert.ok(answer.status < 500, `${answer.status} for ${JSON.stringify(body).slice(0, 400)}: ${answer.text.slice(0, 300)}`);
      }),
      { numRuns: 150 },
    );
  });

  test('FHIRPath Patch: never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fhirPathPatches, async (body) => {
        const answer = await server.request('PATCH', '/Patient/fuzzed', { body, contentType: 'application/fhir+json' });
        assert.ok(answer.status < 500, `${answer.status} for ${JSON.stringify(body).slice(0, 400)}: ${answer.text.slice(0, 300)}`);
      }),
      { numRuns: 150 },
    );
  });
});
