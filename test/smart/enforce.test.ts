import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { inPatientCompartment } from '../../src/search/compartment.ts';
import { visibleUnder } from '../../src/smart/compartment.ts';
import { decide } from '../../src/smart/enforce.ts';
import { interactionOf } from '../../src/fhir/interactions.ts';
import { parseScopes } from '../../src/smart/scopes.ts';

const BASE = 'http://warden.test';
const LAB = 'http://terminology.hl7.org/CodeSystem/observation-category';
const observation = (patient: string, category = 'laboratory') => ({
  resourceType: 'Observation',
  id: `obs-${patient}-${category}`,
  subject: { reference: `Patient/${patient}` },
  category: [{ coding: [{ system: LAB, code: category }] }],
});

describe('SMART enforcement decision', () => {
  test('allows an interaction a scope names and denies one it does not', () => {
    const scopes = parseScopes('user/Observation.rs');
    assert.equal(decide(scopes, { interaction: 's', type: 'Observation' }, {}).allow, true);
    assert.equal(decide(scopes, { interaction: 'c', type: 'Observation' }, {}).allow, false);
    assert.equal(decide(scopes, { interaction: 'r', type: 'Patient', id: 'p' }, {}).allow, false);
  });

  test('user and system scopes confine nothing; patient scopes confine to the context patient', () => {
    const user = decide(parseScopes('user/*.read'), { interaction: 's', type: 'Observation' }, {});
    assert.deepEqual(user.allow && user.filters, null);
    const patient = decide(parseScopes('patient/*.read'), { interaction: 's', type: 'Observation' }, { patient: 'p1' });
    assert.ok(patient.allow);
    assert.deepEqual(patient.filters, [{ patient: 'p1', constraints: [] }]);
  });

  test('a patient scope without a patient in context allows nothing', () => {
    const decision = decide(parseScopes('patient/*.read'), { interaction: 'r', type: 'Patient', id: 'p' }, {});
    assert.equal(decision.allow, false);
  });

  test('a broader scope beside a narrowed one leaves no filter', () => {
    const decision = decide(parseScopes('user/Observation.rs?category=laboratory user/Observation.rs'), { interaction: 's', type: 'Observation' }, {});
    assert.ok(decision.allow);
    assert.equal(decision.filters, null);
  });

  test('names each resource-API route once, with its FHIR interaction, Operation id and SMART interaction', () => {
    assert.deepEqual(interactionOf('GET', '/:type', { type: 'Observation' }), { interaction: 'search-type', operation: 'FhirSearch', smart: 's', type: 'Observation' });
    assert.deepEqual(interactionOf('HEAD', '/:type/:id', { type: 'Patient', id: 'x' }), { interaction: 'read', operation: 'FhirRead', smart: 'r', type: 'Patient', id: 'x' });
    assert.equal(interactionOf('GET', '/:type/:id/_history', { type: 'Patient', id: 'x' })?.smart, 'r');
    assert.equal(interactionOf('PATCH', '/:type/:id', { type: 'Patient', id: 'x' })?.smart, 'u');
    assert.equal(interactionOf('GET', '/metadata', {}), null);
  });
});

describe('patient compartment visibility', () => {
  test('a patient sees themself and resources that reference them through a compartment parameter', () => {
    assert.ok(inPatientCompartment({ resourceType: 'Patient', id: 'p1' }, 'p1', BASE));
    assert.ok(!inPatientCompartment({ resourceType: 'Patient', id: 'p2' }, 'p1', BASE));
    assert.ok(inPatientCompartment(observation('p1'), 'p1', BASE));
    assert.ok(!inPatientCompartment(observation('p2'), 'p1', BASE));
  });

  test('a reference outside a compartment parameter does not count', () => {
    const focus = { resourceType: 'Observation', id: 'o', subject: { reference: 'Patient/p2' }, focus: [{ reference: 'Patient/p1' }] };
    assert.ok(!inPatientCompartment(focus, 'p1', BASE));
  });

  test('narrowing by category follows token semantics', () => {
    const filters = [{ patient: 'p1', constraints: [['category', `${LAB}|laboratory`]] as [string, string][] }];
    assert.ok(visibleUnder(observation('p1', 'laboratory'), filters, BASE));
    assert.ok(!visibleUnder(observation('p1', 'vital-signs'), filters, BASE));
    assert.ok(visibleUnder(observation('p1', 'vital-signs'), [{ constraints: [['category', 'vital-signs']] }], BASE));
    assert.ok(!visibleUnder(observation('p1', 'vital-signs'), [{ constraints: [['category', 'other|vital-signs']] }], BASE));
  });

  test('an unknown narrowing parameter hides everything rather than nothing', () => {
    assert.ok(!visibleUnder(observation('p1'), [{ constraints: [['no-such-param', 'x']] }], BASE));
  });

  test("another patient's Observation is never visible under a patient scope (property)", () => {
    const id = fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/);
    fc.assert(
      fc.property(id, id, (mine, theirs) => {
        fc.pre(mine !== theirs);
        const decision = decide(parseScopes('patient/*.read'), { interaction: 's', type: 'Observation' }, { patient: mine });
        assert.ok(decision.allow);
        assert.equal(visibleUnder(observation(theirs), decision.filters, BASE), false);
        assert.equal(visibleUnder(observation(mine), decision.filters, BASE), true);
      }),
    );
  });
});
