import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { inPatientCompartment, patientCompartmentFilter, storedInPatientCompartment } from '../../src/search/compartment.ts';
import type { Resource } from '../../src/store/resource-store.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const BASE = 'https://warden.example/fhir';

describe('patient compartment membership of one resource', () => {
  const obs = (extra: Record<string, unknown>): Resource => ({ resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' }, ...extra });

  test('the Patient itself is in its own compartment, another Patient is not', () => {
    assert.equal(inPatientCompartment({ resourceType: 'Patient', id: 'p1' }, 'p1', BASE), true);
    assert.equal(inPatientCompartment({ resourceType: 'Patient', id: 'p2' }, 'p1', BASE), false);
  });

  test('a Patient linking to the patient is in the compartment (Patient.link)', () => {
    const linked: Resource = { resourceType: 'Patient', id: 'p2', link: [{ other: { reference: 'Patient/p1' }, type: 'seealso' }] };
    assert.equal(inPatientCompartment(linked, 'p1', BASE), true);
  });

  test('an Observation is in through subject or performer, relative or absolute on this server', () => {
    assert.equal(inPatientCompartment(obs({ subject: { reference: 'Patient/p1' } }), 'p1', BASE), true);
    assert.equal(inPatientCompartment(obs({ performer: [{ reference: 'Patient/p1' }] }), 'p1', BASE), true);
    assert.equal(inPatientCompartment(obs({ subject: { reference: `${BASE}/Patient/p1` } }), 'p1', BASE), true);
  });

  test('an Observation about another patient, a Group with the same id or another server\'s patient is out', () => {
    assert.equal(inPatientCompartment(obs({ subject: { reference: 'Patient/p2' } }), 'p1', BASE), false);
    assert.equal(inPatientCompartment(obs({ subject: { reference: 'Group/p1' } }), 'p1', BASE), false);
    assert.equal(inPatientCompartment(obs({ subject: { reference: 'https://other.example/Patient/p1' } }), 'p1', BASE), false);
    assert.equal(inPatientCompartment(obs({}), 'p1', BASE), false);
  });

  test('references outside the compartment parameters do not count (Observation.focus)', () => {
    assert.equal(inPatientCompartment(obs({ focus: [{ reference: 'Patient/p1' }] }), 'p1', BASE), false);
  });

  test('Condition.asserter, Encounter.subject, AllergyIntolerance.recorder put a resource in', () => {
    assert.equal(inPatientCompartment({ resourceType: 'Condition', id: 'c', subject: { reference: 'Patient/p9' }, asserter: { reference: 'Patient/p1' } }, 'p1', BASE), true);
    assert.equal(inPatientCompartment({ resourceType: 'Encounter', id: 'e', status: 'planned', class: { code: 'AMB' }, subject: { reference: 'Patient/p1' } }, 'p1', BASE), true);
    assert.equal(inPatientCompartment({ resourceType: 'AllergyIntolerance', id: 'a', patient: { reference: 'Patient/p9' }, recorder: { reference: 'Patient/p1' } }, 'p1', BASE), true);
    // CarePlan is not one of the clinical types searched in full, but its compartment parameters are indexed.
    assert.equal(inPatientCompartment({ resourceType: 'CarePlan', id: 'cp', status: 'active', intent: 'plan', subject: { reference: 'Patient/p1' } }, 'p1', BASE), true);
  });

  test('a type outside the compartment (Practitioner, Organization) is never in', () => {
    assert.equal(inPatientCompartment({ resourceType: 'Organization', id: 'p1' }, 'p1', BASE), false);
  });
});

for (const engine of engines()) {
  describe(`patient compartment in the store (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
      const resources: Resource[] = [
        { resourceType: 'Patient', id: 'cp-1' },
        { resourceType: 'Patient', id: 'cp-2' },
        { resourceType: 'Patient', id: 'cp-3', link: [{ other: { reference: 'Patient/cp-1' }, type: 'seealso' }] },
        { resourceType: 'Observation', id: 'cp-o1', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/cp-1' } },
        { resourceType: 'Observation', id: 'cp-o2', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/cp-2' }, performer: [{ reference: 'Patient/cp-1' }] },
        { resourceType: 'Observation', id: 'cp-o3', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/cp-2' } },
        { resourceType: 'Observation', id: 'cp-o4', status: 'final', code: { text: 'x' }, subject: { reference: 'Group/cp-1' } },
        { resourceType: 'Observation', id: 'cp-o5', status: 'final', code: { text: 'x' }, subject: { reference: `${server.url}/Patient/cp-1` } },
        { resourceType: 'Condition', id: 'cp-c1', subject: { reference: 'Patient/cp-1' } },
        { resourceType: 'CarePlan', id: 'cp-cp1', status: 'active', intent: 'plan', subject: { reference: 'Patient/cp-1' } },
        { resourceType: 'Organization', id: 'cp-1', name: 'Clinic' },
      ];
      for (const resource of resources) {
        const response = await server.request('PUT', `/${resource.resourceType}/${resource.id}`, { body: resource });
        assert.equal(response.status, 201, response.text);
      }
    });
    after(() => server.close());

    async function inCompartment(type: string, patientId: string, extra: Partial<Parameters<TestServer['app']['ctx']['resources']['search']>[1]> = {}) {
      const { resources, total } = await server.app.ctx.resources.search(type, {
        count: 100, offset: 0, sort: 'id', total: true, ...extra,
        filters: [...(extra.filters ?? []), patientCompartmentFilter(type, patientId, server.url)],
      });
      assert.equal(total, resources.length);
      return resources.map((resource) => resource.id);
    }

    test('a search restricted to a compartment finds the patient and what points at it through compartment parameters', async () => {
      assert.deepEqual(await inCompartment('Patient', 'cp-1'), ['cp-1', 'cp-3']);
      assert.deepEqual(await inCompartment('Observation', 'cp-1'), ['cp-o1', 'cp-o2', 'cp-o5']);
      assert.deepEqual(await inCompartment('Observation', 'cp-2'), ['cp-o2', 'cp-o3']);
      assert.deepEqual(await inCompartment('Condition', 'cp-1'), ['cp-c1']);
      assert.deepEqual(await inCompartment('CarePlan', 'cp-1'), ['cp-cp1']);
      assert.deepEqual(await inCompartment('Organization', 'cp-1'), []);
    });

    test('the restriction combines with other filters and paging', async () => {
      const page = await server.app.ctx.resources.search('Observation', {
        count: 1, offset: 1, sort: 'id', total: true, filters: [patientCompartmentFilter('Observation', 'cp-1', server.url)],
      });
      assert.equal(page.total, 3);
      assert.deepEqual(page.resources.map((r) => r.id), ['cp-o2']);
    });

    test('one stored resource is checked against a compartment', async () => {
      const { resources } = server.app.ctx;
      assert.equal(await storedInPatientCompartment(resources, 'Observation', 'cp-o1', 'cp-1', server.url), true);
      assert.equal(await storedInPatientCompartment(resources, 'Observation', 'cp-o3', 'cp-1', server.url), false);
      assert.equal(await storedInPatientCompartment(resources, 'Observation', 'cp-missing', 'cp-1', server.url), false);
      assert.equal(await storedInPatientCompartment(resources, 'Patient', 'cp-1', 'cp-1', server.url), true);
    });

    test('an update moving a resource to another patient moves it out of the compartment; a delete removes it', async () => {
      const { resources } = server.app.ctx;
      await server.request('PUT', '/Condition/cp-c2', { body: { resourceType: 'Condition', subject: { reference: 'Patient/cp-1' } } });
      assert.equal(await storedInPatientCompartment(resources, 'Condition', 'cp-c2', 'cp-1', server.url), true);
      await server.request('PUT', '/Condition/cp-c2', { body: { resourceType: 'Condition', subject: { reference: 'Patient/cp-2' } } });
      assert.equal(await storedInPatientCompartment(resources, 'Condition', 'cp-c2', 'cp-1', server.url), false);
      assert.equal(await storedInPatientCompartment(resources, 'Condition', 'cp-c2', 'cp-2', server.url), true);
      await server.request('DELETE', '/Condition/cp-c2');
      assert.equal(await storedInPatientCompartment(resources, 'Condition', 'cp-c2', 'cp-2', server.url), false);
    });
  });
}
