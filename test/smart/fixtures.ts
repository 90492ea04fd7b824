// Clinical data and clients for the SMART tests, written through the API as an administrator would.
import assert from 'node:assert/strict';
import type { TestServer } from '../helpers/server.ts';

export const CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';

export function observation(id: string, patient: string, category: 'laboratory' | 'vital-signs') {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    category: [{ coding: [{ system: CATEGORY, code: category }] }],
    code: { coding: [{ system: 'http://loinc.org', code: category === 'laboratory' ? '2345-7' : '8867-4' }], text: category },
    subject: { reference: `Patient/${patient}` },
    valueQuantity: { value: 1, unit: '1' },
  };
}

/** Two patients, each with a lab and a vital-signs Observation, and an Encounter for the first. */
export async function seedClinicalData(server: TestServer): Promise<void> {
  const resources = [
    { resourceType: 'Patient', id: 'pat-a', name: [{ family: 'Ames', given: ['Ada'] }], birthDate: '1970-01-01' },
    { resourceType: 'Patient', id: 'pat-b', name: [{ family: 'Brook', given: ['Bob'] }], birthDate: '1980-02-02' },
    observation('obs-a-lab', 'pat-a', 'laboratory'),
    observation('obs-a-vital', 'pat-a', 'vital-signs'),
    observation('obs-b-lab', 'pat-b', 'laboratory'),
    observation('obs-b-vital', 'pat-b', 'vital-signs'),
    { resourceType: 'Encounter', id: 'enc-a', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/pat-a' } },
  ];
  for (const resource of resources) {
    const response = await server.request('PUT', `/${resource.resourceType}/${resource.id}`, { body: resource });
    assert.ok(response.status < 300, `PUT ${resource.resourceType}/${resource.id}: ${response.text}`);
  }
}

export async function put(server: TestServer, resource: { resourceType: string; id: string }): Promise<void> {
  const response = await server.request('PUT', `/${resource.resourceType}/${resource.id}`, { body: resource });
  assert.ok(response.status < 300, `PUT ${resource.resourceType}/${resource.id}: ${response.text}`);
}

/** An AccessPolicy that lets a client's SMART scopes decide, as Aidbox's smart-on-fhir engine does. */
export async function smartPolicyFor(server: TestServer, clientId: string): Promise<void> {
  await put(server, { resourceType: 'AccessPolicy', id: `smart-${clientId}`, engine: 'smart-on-fhir', link: [{ resourceType: 'Client', id: clientId }] } as never);
}

/**
 * A clinician's own rights: this user may read and write clinical resources whatever app they use. A SMART app's
 * scopes narrow these; they never grant the user more (SMART App Launch: scopes ∩ the user's permissions).
 */
export async function clinicianPolicyFor(server: TestServer, userId: string): Promise<void> {
  await put(server, { resourceType: 'AccessPolicy', id: `clinician-${userId}`, engine: 'allow', link: [{ resourceType: 'User', id: userId }] } as never);
}

export async function bearer(server: TestServer, token: string, method: string, path: string, body?: unknown) {
  return server.request(method, path, { auth: null, headers: { authorization: `Bearer ${token}` }, ...(body !== undefined && { body }) });
}

export async function tokenRequest(server: TestServer, form: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

export const ids = (bundle: { entry?: { resource: { id: string } }[] }) => (bundle.entry ?? []).map((entry) => entry.resource.id).sort();
