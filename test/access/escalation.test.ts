// Writing AccessPolicy, Client, User or Role needs a policy that names the type: a client allowed to write
// "anything" cannot grant itself more.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { createClient, linkTo, putPolicy } from './fixtures.ts';

const grantAll = { resourceType: 'AccessPolicy', engine: 'allow', link: [{ resourceType: 'Client', id: 'writer' }] };

for (const engine of engines()) {
  describe(`no self-escalation (${engine})`, () => {
    let server: TestServer;
    let writer: { id: string; secret: string };
    let admin: { id: string; secret: string };
    before(async () => {
      server = await startTestServer(engine);
      writer = await createClient(server, 'writer');
      admin = await createClient(server, 'policy-admin');
      await putPolicy(server, { id: 'writer-anything', engine: 'allow', link: linkTo('Client', 'writer') });
      await putPolicy(server, { id: 'writer-regex', engine: 'matcho', link: linkTo('Client', 'writer'), matcho: { uri: '#^/' } });
      await putPolicy(server, {
        id: 'writer-schema',
        engine: 'json-schema',
        link: linkTo('Client', 'writer'),
        schema: { required: ['uri'], properties: { 'request-method': { enum: ['post', 'put', 'patch', 'delete'] } } },
      });
      await putPolicy(server, {
        id: 'admin-writes-policies',
        engine: 'matcho',
        link: linkTo('Client', 'policy-admin'),
        matcho: { params: { 'resource/type': 'AccessPolicy' }, 'request-method': { $enum: ['put', 'post'] } },
      });
    });
    after(() => server.close());

    test('a blanket policy allows ordinary writes', async () => {
      assert.equal((await server.request('PUT', '/Patient/w1', { auth: writer, body: { resourceType: 'Patient' } })).status, 201);
    });

    for (const [type, body] of [
      ['AccessPolicy', grantAll],
      ['Client', { resourceType: 'Client', secret: 'x', grant_types: ['basic'] }],
      ['User', { resourceType: 'User', password: 'x' }],
      ['Role', { resourceType: 'Role', name: 'admin', user: { id: 'u1' } }],
    ] as const) {
      test(`a blanket policy does not allow writing ${type}`, async () => {
        const put = await server.request('PUT', `/${type}/escalate`, { auth: writer, body });
        assert.equal(put.status, 403, put.text);
        assert.equal(put.body.resourceType, 'OperationOutcome');
        const post = await server.request('POST', `/${type}`, { auth: writer, body });
        assert.equal(post.status, 403);
        assert.equal((await server.request('GET', `/${type}/escalate`)).status, 404);
      });
    }

    test('a blanket policy does not allow deleting or patching a policy', async () => {
      assert.equal((await server.request('DELETE', '/AccessPolicy/writer-anything', { auth: writer })).status, 403);
      const patched = await server.request('PATCH', '/AccessPolicy/writer-regex', {
        auth: writer,
        raw: JSON.stringify([{ op: 'replace', path: '/matcho', value: {} }]),
        contentType: 'application/json-patch+json',
      });
      assert.equal(patched.status, 403);
    });

    test('the trace says why the blanket policy did not count', async () => {
      const trace = await server.request('POST', '/auth/test-policy', {
        body: { request: { method: 'PUT', uri: '/AccessPolicy/x', client: 'writer', body: grantAll } },
      });
      assert.equal(trace.body.decision, 'deny');
      const blanket = trace.body.candidates.find((c: { id: string }) => c.id === 'writer-anything');
      assert.match(blanket.reason, /does not grant writing AccessPolicy: a policy must name the type/);
    });

    test('a policy that names AccessPolicy allows writing policies, and only what it names', async () => {
      const written = await server.request('PUT', '/AccessPolicy/made-by-admin', {
        auth: admin,
        body: { resourceType: 'AccessPolicy', engine: 'allow', link: linkTo('Client', 'nobody') },
      });
      assert.equal(written.status, 201, written.text);
      assert.equal((await server.request('DELETE', '/AccessPolicy/made-by-admin', { auth: admin })).status, 403);
      assert.equal((await server.request('PUT', '/Client/x', { auth: admin, body: { resourceType: 'Client' } })).status, 403);
    });

    test('reads of IAM resources follow ordinary policies', async () => {
      assert.equal((await server.request('GET', '/AccessPolicy/writer-anything', { auth: writer })).status, 200);
    });
  });
}
