// POST /auth/test-policy and the debug switch: what a policy author sees when a decision surprises them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { basic, engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { createClient, linkTo, putPolicy } from './fixtures.ts';

for (const engine of engines()) {
  describe(`explaining decisions (${engine})`, () => {
    let server: TestServer;
    let app: { id: string; secret: string };
    let debugger_: { id: string; secret: string };
    before(async () => {
      server = await startTestServer(engine);
      app = await createClient(server, 'app');
      debugger_ = await createClient(server, 'debugger');
      await putPolicy(server, { id: 'app-reads-patients', engine: 'matcho', link: linkTo('Client', 'app'), matcho: { uri: '/Patient', 'request-method': 'get' } });
      await putPolicy(server, { id: 'app-sql', engine: 'sql', link: linkTo('Client', 'app'), sql: { query: 'select {{client.id}} = {{headers.x-owner}}' } });
      await putPolicy(server, { id: 'debugger-reads', engine: 'matcho', link: linkTo('Client', 'debugger'), matcho: { 'request-method': 'get' } });
      // Describing a request of Client app shows its fields, so the debugger must be allowed to read it.
      await putPolicy(server, { id: 'debugger-reads-clients', engine: 'matcho', link: linkTo('Client', 'debugger'), matcho: { 'request-method': 'get', params: { 'resource/type': 'Client' } } });
      await putPolicy(server, { id: 'debugger-debugs', engine: 'matcho', link: linkTo('Client', 'debugger'), matcho: { uri: '/auth/test-policy', 'request-method': 'post' } });
    });
    after(() => server.close());

    test('test-policy returns the request object, each candidate with its reason, and the compiled SQL', async () => {
      const response = await server.request('POST', '/auth/test-policy', {
        body: { request: { method: 'POST', uri: '/Patient?x=1', client: 'app', headers: { 'X-Owner': 'someone' }, body: { resourceType: 'Patient' } } },
      });
      assert.equal(response.status, 200, response.text);
      const { request, decision, candidates } = response.body;
      assert.equal(decision, 'deny');
      assert.equal(request['request-method'], 'post');
      assert.equal(request.uri, '/Patient');
      assert.deepEqual(request.params, { x: '1', 'resource/type': 'Patient' });
      assert.equal(request.client.id, 'app');
      assert.equal(request.client.secret, undefined);
      assert.deepEqual(request.operation, { id: 'FhirCreate' });
      assert.deepEqual(candidates.map((c: { id: string }) => c.id), ['app-reads-patients', 'app-sql']);
      assert.equal(candidates[0].reason, 'request.request-method is "post", expected "get"');
      assert.deepEqual(candidates[1].sql, { query: 'select (\nselect $1 = $2\n) as allowed', params: ['app', 'someone'] });
    });

    test('test-policy evaluates a policy that is not stored yet, and its links', async () => {
      const response = await server.request('POST', '/auth/test-policy', {
        body: {
          request: { method: 'GET', uri: '/Observation', client: 'app' },
          policy: { id: 'draft', engine: 'json-schema', link: linkTo('Client', 'app'), schema: { properties: { uri: { constant: '/Observation' } } } },
        },
      });
      assert.equal(response.body.decision, 'allow');
      assert.equal(response.body.policy, 'draft');
      assert.equal((await server.request('GET', '/Observation', { auth: app })).status, 403, 'the draft is not stored');
    });

    test('test-policy refuses a broken policy or request with an OAuth-style error', async () => {
      const broken = await server.request('POST', '/auth/test-policy', {
        body: { request: { method: 'GET', uri: '/Patient' }, policy: { engine: 'sql', sql: { query: 'selec' } } },
      });
      assert.equal(broken.status, 400);
      assert.equal(broken.body.error, 'invalid_request');
      assert.match(broken.body.error_description, /AccessPolicy.sql: invalid SQL/);
      const noRequest = await server.request('POST', '/auth/test-policy', { body: {} });
      assert.equal(noRequest.status, 400);
      assert.match(noRequest.body.error_description, /method and a uri/);
      const unknownClient = await server.request('POST', '/auth/test-policy', { body: { request: { uri: '/Patient', client: 'ghost' } } });
      assert.match(unknownClient.body.error_description, /Client\/ghost not found/);
    });

    test('test-policy is only for callers a policy allows it', async () => {
      const denied = await server.request('POST', '/auth/test-policy', { auth: app, body: { request: { uri: '/Patient' } } });
      assert.equal(denied.status, 403);
      assert.equal((await server.request('POST', '/auth/test-policy', { auth: null, body: { request: { uri: '/Patient' } } })).status, 401);
      const allowed = await server.request('POST', '/auth/test-policy', { auth: debugger_, body: { request: { uri: '/Patient', client: 'app' } } });
      assert.equal(allowed.status, 200);
      assert.equal(allowed.body.decision, 'allow');
    });

    test('the debug switch answers a real request with its trace instead of carrying it out', async () => {
      const trace = await server.request('DELETE', '/Patient/p1?__debug=policy', { auth: debugger_ });
      assert.equal(trace.status, 200, trace.text);
      assert.equal(trace.body.decision, 'deny');
      assert.equal(trace.body.request.client.id, 'debugger');
      assert.deepEqual(trace.body.request.operation, { id: 'FhirDelete' });
      assert.equal(trace.body.request.headers.authorization, undefined, 'credentials never appear in a trace');
      await server.request('PUT', '/Patient/kept', { body: { resourceType: 'Patient' } });
      const header = await server.request('DELETE', '/Patient/kept', { headers: { 'x-debug': 'policy' } });
      assert.equal(header.status, 200);
      assert.equal(header.body.decision, 'allow', 'the root client');
      assert.equal((await server.request('GET', '/Patient/kept')).status, 200, 'a debugged request is a dry run');
    });

    test('the debug switch is refused to callers no policy allows to debug', async () => {
      const response = await server.request('GET', '/Patient', { auth: app, headers: { 'x-debug': 'policy' } });
      assert.equal(response.status, 403);
      assert.match(response.body.issue[0].diagnostics, /Not allowed to debug/);
      const plain = await server.request('GET', '/Patient', { headers: { authorization: basic(app.id, app.secret) } });
      assert.equal(plain.status, 200);
    });
  });
}
