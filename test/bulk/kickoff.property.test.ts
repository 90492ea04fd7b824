// The Bulk Data kick-off parser, as a unit, over any query an attacker can send (OWASP ASVS 5.0 V1.5, V2.2:
// input validated whatever its shape): it returns an export request or throws a 400 OperationOutcome, never
// anything else; what it returns names only types of its level, each once, in order, and filters only those.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { EXPORTABLE_TYPES, patientRecordTypes } from '../../src/bulk/filters.ts';
import { parseKickoff, typeFilterCondition, type ExportLevel } from '../../src/bulk/kickoff.ts';
import { FhirError } from '../../src/fhir/outcome.ts';

const BASE = 'http://warden.test';
const NAMES = ['_type', '_since', '_typeFilter', '_outputFormat', '_elements', 'patient', '_type:x', ''];
const pieces = ['Patient', 'Observation', 'Client', 'Group', ',', '?', '&', '=', 'category=laboratory', 'code=x|y', '2024-01-01T00:00:00Z',
  'ndjson', 'application/fhir+ndjson', '%', '\u0000', ' ', 'subject=Patient/1', 'status:not=final', '_lastUpdated=gt2020'];
const value = fc.oneof(fc.string({ maxLength: 60 }), fc.array(fc.constantFrom(...pieces), { maxLength: 6 }).map((parts) => parts.join('')));
const query = fc.dictionary(fc.constantFrom(...NAMES), fc.oneof(value, fc.array(value, { minLength: 1, maxLength: 3 })), { maxKeys: 5 });
const prefer = fc.constantFrom(undefined, 'respond-async', 'respond-async, handling=lenient', 'handling=lenient', 'RESPOND-ASYNC', '');
const level = fc.constantFrom<ExportLevel>('system', 'patient', 'group');

describe('Bulk Data kick-off parser (properties)', () => {
  test('any query is parsed or refused with a 400 OperationOutcome; a parsed one keeps to its level', () => {
    fc.assert(
      fc.property(query, prefer, level, (params, preferHeader, exportLevel) => {
        let parsed;
        try {
          parsed = parseKickoff(params, preferHeader, exportLevel, BASE);
        } catch (error) {
          assert.ok(error instanceof FhirError, String(error));
          assert.equal(error.status, 400);
          return;
        }
        assert.ok(preferHeader?.toLowerCase().includes('respond-async'), 'only a respond-async kick-off is accepted');
        const allowed = exportLevel === 'system' ? EXPORTABLE_TYPES : patientRecordTypes();
        assert.ok(parsed.types.length > 0);
        assert.ok(parsed.types.every((type) => allowed.includes(type)), parsed.types.join());
        assert.equal(new Set(parsed.types).size, parsed.types.length);
        for (const [type, filters] of Object.entries(parsed.typeFilters)) {
          assert.ok(parsed.types.includes(type));
          // What the kick-off accepted, the job can run.
          assert.ok(typeFilterCondition(type, filters, BASE));
        }
        if (parsed.since !== undefined) assert.ok(!Number.isNaN(Date.parse(parsed.since)));
      }),
      { numRuns: 400 },
    );
  });

  test('a well-formed kick-off is accepted whatever the order of its parameters', () => {
    fc.assert(
      fc.property(fc.subarray(['Observation', 'Patient', 'Encounter'], { minLength: 1 }), fc.date({ min: new Date('2000-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }), (types, since) => {
        const parsed = parseKickoff({ _type: types.join(','), _since: since.toISOString(), _outputFormat: 'ndjson' }, 'respond-async', 'patient', BASE);
        assert.deepEqual(parsed.types, [...types].sort());
        assert.equal(parsed.since, since.toISOString());
      }),
      { numRuns: 100 },
    );
  });
});
