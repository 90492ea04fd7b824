// Validation of every write against the FHIR R4 base definitions (422 with one issue per problem and its
// FHIRPath expression), the setting that turns it off, and the property that no JSON body gives a 5xx.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { engines, startTestServer, type Response, type TestServer } from '../helpers/server.ts';
import { VALID_EXAMPLES } from './examples.ts';

/** The expressions of a 422's issues, sorted. */
function expressionsOf(response: Response): string[] {
  assert.equal(response.status, 422, response.text);
  assert.equal(response.body.resourceType, 'OperationOutcome');
  for (const issue of response.body.issue) assert.equal(issue.severity, 'error');
  return response.body.issue.flatMap((issue: { expression: string[] }) => issue.expression).sort();
}

for (const engine of engines()) {
  describe(`writes are validated against the R4 base definitions (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
    });
    after(() => server.close());

    test('representative valid resources of several types are stored', async () => {
      for (const example of VALID_EXAMPLES) {
        const response = await server.request('PUT', `/${example.resourceType}/${example.id}`, { body: example });
        assert.equal(response.status, 201, `${example.resourceType}: ${response.text}`);
      }
    });

    test('gender 42, an unknown element and birthDate "not-a-date" are three issues of one 422', async () => {
      const response = await server.request('POST', '/Patient', { body: { resourceType: 'Patient', gender: 42, favouriteColour: 'blue', birthDate: 'not-a-date' } });
      assert.deepEqual(expressionsOf(response), ['Patient.birthDate', 'Patient.favouriteColour', 'Patient.gender']);
      assert.match(response.text, /unknown element \\"favouriteColour\\"/);
      assert.match(response.text, /\\"not-a-date\\" is not a valid date/);
    });

    test('an Observation without status and code names both', async () => {
      const response = await server.request('POST', '/Observation', { body: { resourceType: 'Observation', valueString: 'x' } });
      assert.deepEqual(expressionsOf(response), ['Observation.code', 'Observation.status']);
    });

    test('a choice element of a type it does not allow is unknown; two types of one choice are refused', async () => {
      const wrongType = await server.request('POST', '/Patient', { body: { resourceType: 'Patient', deceasedString: 'yes' } });
      assert.deepEqual(expressionsOf(wrongType), ['Patient.deceasedString']);
      const both = await server.request('POST', '/Patient', { body: { resourceType: 'Patient', deceasedBoolean: true, deceasedDateTime: '2020-01-01' } });
      assert.deepEqual(expressionsOf(both), ['Patient.deceasedDateTime']);
    });

    test('a code outside a required binding is refused, in a code and in a CodeableConcept', async () => {
      const gender = await server.request('POST', '/Patient', { body: { resourceType: 'Patient', gender: 'unknown-ish' } });
      assert.deepEqual(expressionsOf(gender), ['Patient.gender']);
      assert.equal(gender.body.issue[0].code, 'code-invalid');
      const clinical = await server.request('POST', '/Condition', {
        body: { resourceType: 'Condition', subject: { reference: 'Patient/x' }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'dormant' }] } },
      });
      assert.deepEqual(expressionsOf(clinical), ['Condition.clinicalStatus']);
    });

    test('the expression points into arrays, backbone elements and contained resources', async () => {
      const response = await server.request('POST', '/Patient', {
        body: {
          resourceType: 'Patient',
          name: [{ given: ['Ann', 7] }],
          contact: [{ gender: 'female', name: { family: 'X' } }, { period: { start: 'soon' }, name: { family: 'Y' } }],
          contained: [{ resourceType: 'Observation', id: 'o1', status: 'final' }],
        },
      });
      assert.deepEqual(expressionsOf(response), ['Patient.contact[1].period.start', 'Patient.contained[0].code', 'Patient.name[0].given[1]']);
    });

    test('cardinality: a single element sent as an array, a list sent as one value, an empty array', async () => {
      const response = await server.request('POST', '/Patient', { body: { resourceType: 'Patient', gender: ['male'], name: { family: 'X' }, telecom: [] } });
      assert.deepEqual(expressionsOf(response), ['Patient.gender', 'Patient.name', 'Patient.telecom']);
    });

    test('FHIRPath invariants of the base definitions: pat-1 on a contact, per-1 on a period', async () => {
      const response = await server.request('POST', '/Patient', {
        body: { resourceType: 'Patient', contact: [{ gender: 'male' }], address: [{ city: 'X', period: { start: '2020-02-01', end: '2020-01-01' } }] },
      });
      assert.deepEqual(expressionsOf(response), ['Patient.address[0].period', 'Patient.contact[0]']);
      assert.match(response.text, /pat-1/);
      assert.match(response.text, /per-1/);
    });

    test('an update and a patch that would make the resource invalid are refused, and nothing is written', async () => {
      const created = await server.request('PUT', '/Patient/stays-valid', { body: { resourceType: 'Patient', gender: 'female' } });
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(expressionsOf(await server.request('PUT', '/Patient/stays-valid', { body: { resourceType: 'Patient', gender: 'f' } })), ['Patient.gender']);
      const patched = await server.request('PATCH', '/Patient/stays-valid', {
        raw: JSON.stringify([{ op: 'replace', path: '/gender', value: 42 }]),
        contentType: 'application/json-patch+json',
      });
      assert.deepEqual(expressionsOf(patched), ['Patient.gender']);
      const merged = await server.request('PATCH', '/Patient/stays-valid', { raw: JSON.stringify({ birthDate: 'yesterday' }), contentType: 'application/merge-patch+json' });
      assert.deepEqual(expressionsOf(merged), ['Patient.birthDate']);
      const current = await server.request('GET', '/Patient/stays-valid');
      assert.equal(current.body.meta.versionId, '1');
      assert.equal(current.body.gender, 'female');
    });

    test('IAM types keep their own schemas: an Aidbox Client is not checked as FHIR', async () => {
      const client = await server.request('PUT', '/Client/validation-app', { body: { resourceType: 'Client', secret: 'a-long-enough-secret-1', grant_types: ['client_credentials'] } });
      assert.equal(client.status, 201, client.text);
    });

    test('no JSON body gives a 5xx on create', async () => {
      const key = fc.constantFrom('resourceType', 'id', 'meta', 'gender', 'birthDate', 'name', 'given', 'family', 'contained', 'extension', 'url', '_birthDate', 'valueString', 'status', 'code', 'coding', 'system', 'x');
      const body = fc.letrec((tie) => ({
        value: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 2 }), fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(key, tie('value'), { maxKeys: 4 })),
      })).value;
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('Patient', 'Observation', 'Bundle'), fc.dictionary(key, body, { maxKeys: 6 }), async (type, resource) => {
          const response = await server.request('POST', `/${type}`, { body: resource });
          assert.ok(response.status < 500, `${response.status}: ${response.text}`);
        }),
        { numRuns: 150 },
      );
    });
  });

  describe(`WARDEN_VALIDATE_WRITES=false stores trusted data as sent (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine, { validateWrites: false });
    });
    after(() => server.close());

    test('an invalid resource is stored when validation is off, and $validate still finds its problems', async () => {
      const stored = await server.request('PUT', '/Observation/bulk-1', { body: { resourceType: 'Observation', valueString: 'x' } });
      assert.equal(stored.status, 201, stored.text);
      const checked = await server.request('POST', '/Observation/bulk-1/$validate');
      assert.equal(checked.status, 200);
      assert.deepEqual(checked.body.issue.map((issue: { expression: string[] }) => issue.expression[0]).sort(), ['Observation.code', 'Observation.status']);
    });
  });
}
