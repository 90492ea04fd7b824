// The AuditEvent index rows the trail writes without FHIRPath are the rows the general extractor gives: the
// trail stays searchable by every AuditEvent parameter the server serves (src/search/parameters.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { denialEvent, LOGIN, LOGIN_SUBTYPE, restEvent, securityEvent, type AuditEventResource } from '../../src/audit/event.ts';
import { auditIndexKeys, auditIndexRows } from '../../src/audit/index-rows.ts';
import { indexKeysOf } from '../../src/search/index-keys.ts';
import { extractIndexRows, type IndexRows } from '../../src/search/extract.ts';

const sorted = (rows: IndexRows) =>
  Object.fromEntries(Object.entries(rows).map(([kind, list]) => [kind, (list as object[]).map((row) => JSON.stringify(row, Object.keys(row).sort())).sort()]));

const anonymous = { address: '10.0.0.1', requestId: 'r1' };
const patientUser = { clientId: 'app', userId: 'ada', userResource: 'Patient/pat-a', sessionId: 's1', address: '::1', requestId: 'r2', allowedBy: 'policy p' };
const clinician = { clientId: 'app', userId: 'nurse', userResource: 'Practitioner/n1', address: '127.0.0.1', requestId: 'r3' };

const events: [string, AuditEventResource][] = [
  ['a patient read', restEvent({ interaction: 'read', type: 'Observation', id: 'o1', versionId: '3', patients: ['pat-a'], outcome: '0' }, clinician)],
  ['a search of no patient', restEvent({ interaction: 'search-type', type: 'Practitioner', patients: [], query: 'name=x', outcome: '0' }, anonymous)],
  ['a patient user\'s own query', restEvent({ interaction: 'search-type', type: 'Observation', patients: ['pat-a'], query: '', outcome: '0' }, patientUser)],
  ['a failed delete', restEvent({ interaction: 'delete', type: 'Patient', id: 'pat-b', patients: ['pat-b'], outcome: '4', outcomeDesc: '403: no' }, clinician)],
  ['a denial', denialEvent({ interaction: 'read', type: 'Patient', id: 'pat-a', method: 'GET', path: '/Patient/pat-a', status: 403, reason: 'no' }, patientUser)],
  ['a login', securityEvent({ type: LOGIN, subtype: [LOGIN_SUBTYPE], outcome: '4', entities: [{ reference: 'User/ada', name: 'ada@example.com' }] }, anonymous)],
];

for (const [name, event] of events) {
  test(`index rows of ${name} are the general extractor's`, () => {
    assert.deepEqual(sorted(auditIndexRows(event)), sorted(extractIndexRows(event)));
  });

  test(`index keys of ${name}, worked out by shared parts, are those of its rows`, () => {
    const expected = indexKeysOf(auditIndexRows(event)).sort();
    assert.ok(expected.length > 0);
    // Twice: the second time the shared parts' keys are remembered ones.
    for (let i = 0; i < 2; i++) assert.deepEqual([...new Set(auditIndexKeys(event))].sort(), expected);
  });
}

test('the date row of recorded is the general extractor\'s, whatever the instant', () => {
  const [, event] = events[0];
  for (const recorded of ['2026-11-30T16:40:00.123Z', '2026-11-30T16:40:00Z', '2026-11-30T17:40:00.123+01:00', '2024-02-29T23:59:59.999Z', '2026-02-30T00:00:00.000Z', '0999-01-01T00:00:00.000Z', 'not a date']) {
    const changed = { ...event, recorded };
    assert.deepEqual(auditIndexRows(changed).date, extractIndexRows(changed).date, recorded);
  }
});
