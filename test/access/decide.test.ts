// Which policies apply (global, linked to Client, User or Operation, through a Role) and what they decide.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { createClient, linkTo, putPolicy } from './fixtures.ts';

const explain = (server: TestServer, request: object) => server.request('POST', '/auth/test-policy', { body: { request } });

for (const engine of engines()) {
  describe(`policy selection and decision (${engine})`, () => {
    let server: TestServer;
    let reader: { id: string; secret: string };
    let stranger: { id: string; secret: string };
    before(async () => {
      server = await startTestServer(engine);
      reader = await createClient(server, 'reader');
      stranger = await createClient(server, 'stranger');
      await server.request('PUT', '/User/nurse-1', { body: { resourceType: 'User', password: 'pw-nurse-1' } });
      await server.request('PUT', '/User/clerk-1', { body: { resourceType: 'User', password: 'pw-clerk-1' } });
      await server.request('PUT', '/Role/r1', { body: { resourceType: 'Role', name: 'nurse', user: { id: 'nurse-1', resourceType: 'User' } } });
      await putPolicy(server, { id: 'reader-reads', engine: 'matcho', link: linkTo('Client', 'reader'), matcho: { 'request-method': 'get' } });
      await putPolicy(server, {
        id: 'nurses-read-observations',
        engine: 'matcho',
        roleName: 'nurse',
        matcho: { 'request-method': 'get', params: { 'resource/type': 'Observation' } },
      });
      await putPolicy(server, { id: 'metadata-for-all', engine: 'matcho', matcho: { uri: '/Organization', 'request-method': 'get' } });
      await putPolicy(server, { id: 'search-encounters', engine: 'matcho', link: linkTo('Operation', 'FhirSearch'), matcho: { params: { 'resource/type': 'Encounter' } } });
      await putPolicy(server, { id: 'user-clerk', engine: 'allow', link: linkTo('User', 'clerk-1') });
    });
    after(() => server.close());

    test('a policy linked to a client applies to that client only', async () => {
      assert.equal((await server.request('GET', '/Patient', { auth: reader })).status, 200);
      assert.equal((await server.request('GET', '/Patient', { auth: stranger })).status, 403);
      assert.equal((await server.request('DELETE', '/Patient/x', { auth: reader })).status, 403);
    });

    test('a global policy applies to everyone, even without credentials', async () => {
      assert.equal((await server.request('GET', '/Organization', { auth: stranger })).status, 200);
      assert.equal((await server.request('GET', '/Organization', { auth: null })).status, 200);
      assert.equal((await server.request('GET', '/Practitioner', { auth: null })).status, 401);
    });

    test('a policy linked to an operation applies to every request of that operation', async () => {
      assert.equal((await server.request('GET', '/Encounter', { auth: stranger })).status, 200);
      assert.equal((await server.request('GET', '/Encounter/e1', { auth: stranger })).status, 403);
    });

    test('roleName applies a policy to the users holding a Role of that name', async () => {
      const nurse = await explain(server, { method: 'GET', uri: '/Observation', user: 'nurse-1' });
      assert.equal(nurse.status, 200, nurse.text);
      assert.equal(nurse.body.decision, 'allow');
      assert.equal(nurse.body.policy, 'nurses-read-observations');
      assert.deepEqual(nurse.body.request.user.role, ['nurse']);
      const clerkCandidates = (await explain(server, { method: 'GET', uri: '/Observation', user: 'clerk-1' })).body.candidates;
      assert.ok(!clerkCandidates.some((c: { id: string }) => c.id === 'nurses-read-observations'));
      assert.equal((await explain(server, { method: 'POST', uri: '/Observation', user: 'nurse-1' })).body.decision, 'deny');
    });

    test('a Role given later takes effect at once', async () => {
      await server.request('PUT', '/User/nurse-2', { body: { resourceType: 'User', password: 'pw-nurse-2' } });
      assert.equal((await explain(server, { method: 'GET', uri: '/Observation', user: 'nurse-2' })).body.decision, 'deny');
      await server.request('PUT', '/Role/r2', { body: { resourceType: 'Role', name: 'nurse', user: { reference: 'User/nurse-2' } } });
      assert.equal((await explain(server, { method: 'GET', uri: '/Observation', user: 'nurse-2' })).body.decision, 'allow');
    });

    test('a policy linked to a user applies to that user', async () => {
      assert.equal((await explain(server, { method: 'DELETE', uri: '/Patient/p1', user: 'clerk-1' })).body.policy, 'user-clerk');
      assert.equal((await explain(server, { method: 'DELETE', uri: '/Patient/p1', user: 'nurse-1' })).body.decision, 'deny');
    });

    test('candidates are tried in id order and the first that allows wins', async () => {
      await putPolicy(server, { id: 'reader-a-first', engine: 'matcho', link: linkTo('Client', 'reader'), matcho: { uri: '/Patient' } });
      const trace = await explain(server, { method: 'GET', uri: '/Patient', client: 'reader' });
      assert.equal(trace.body.policy, 'reader-a-first');
      assert.deepEqual(
        trace.body.candidates.map((c: { id: string; via: string }) => `${c.id} ${c.via}`),
        ['metadata-for-all global', 'reader-a-first Client/reader', 'reader-reads Client/reader', 'search-encounters Operation/FhirSearch'],
      );
    });

    test('a deleted policy stops applying', async () => {
      await putPolicy(server, { id: 'temp', engine: 'allow', link: linkTo('Client', 'stranger') });
      assert.equal((await server.request('GET', '/Location', { auth: stranger })).status, 200);
      assert.equal((await server.request('DELETE', '/AccessPolicy/temp')).status, 200);
      assert.equal((await server.request('GET', '/Location', { auth: stranger })).status, 403);
    });

    test('the root client keeps full access with no policy', async () => {
      assert.equal((await server.request('DELETE', '/Patient/nobody')).status, 404);
      assert.equal((await server.request('GET', '/AccessPolicy')).status, 200);
    });
  });
}
