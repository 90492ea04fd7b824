// The request object every policy sees, for each kind of caller the authenticators produce.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildRequestObject, operationOf, routeOf } from '../../src/access/request-object.ts';
import type { Resource } from '../../src/store/resource-store.ts';

const client = { resourceType: 'Client', id: 'app', secret: '$s0$hash', grant_types: ['basic'] } as Resource;
const user = { resourceType: 'User', id: 'u1', password: '$s0$hash', data: { patient: 'p1' } } as Resource;
const session = { resourceType: 'Session', id: 's1', user: { id: 'u1' } } as Resource;

describe('request object', () => {
  test('method lower case, uri without query, query string and params with the route', () => {
    const object = buildRequestObject({
      method: 'GET',
      url: '/Patient/p1/_history/2?_format=json&tag=a&tag=b',
      route: '/:type/:id/_history/:versionId',
      routeParams: { type: 'Patient', id: 'p1', versionId: '2' },
    });
    assert.equal(object['request-method'], 'get');
    assert.equal(object.uri, '/Patient/p1/_history/2');
    assert.equal(object['query-string'], '_format=json&tag=a&tag=b');
    assert.deepEqual(object.params, { _format: 'json', tag: ['a', 'b'], 'resource/type': 'Patient', 'resource/id': 'p1', 'resource/version-id': '2' });
    assert.deepEqual(object.operation, { id: 'FhirVread' });
  });

  test('headers are lower-cased and credentials are left out', () => {
    const object = buildRequestObject({
      method: 'GET',
      url: '/Patient',
      headers: { 'X-Tenant': 'a', Authorization: 'Basic c2VjcmV0', cookie: 'sid=1', accept: ['a', 'b'] },
    });
    assert.deepEqual(object.headers, { 'x-tenant': 'a', accept: 'a, b' });
  });

  test('a body with a resourceType is also the resource', () => {
    const object = buildRequestObject({ method: 'POST', url: '/Patient', body: { resourceType: 'Patient', active: true } });
    assert.deepEqual(object.resource, { resourceType: 'Patient', active: true });
    assert.deepEqual(object.operation, { id: 'FhirCreate' });
    assert.deepEqual(object.params, { 'resource/type': 'Patient' });
  });

  test('a user token: user with roles, client, session and jwt claims, secrets left out', () => {
    const object = buildRequestObject({
      method: 'GET',
      url: '/Observation?patient=p1',
      identity: { method: 'bearer', client, user, session, jwt: { sub: 'u1', iss: 'https://warden' }, scopes: ['patient/*.read'] },
      roles: ['nurse'],
      remoteAddr: '10.0.0.1',
      scheme: 'https',
    });
    assert.deepEqual(object.user, { resourceType: 'User', id: 'u1', data: { patient: 'p1' }, role: ['nurse'] });
    assert.deepEqual(object.client, { resourceType: 'Client', id: 'app', grant_types: ['basic'] });
    assert.deepEqual(object.session, session);
    assert.deepEqual(object.jwt, { sub: 'u1', iss: 'https://warden' });
    assert.deepEqual(object.scopes, ['patient/*.read']);
    assert.equal(object['remote-addr'], '10.0.0.1');
    assert.equal(object.scheme, 'https');
    assert.deepEqual(object.operation, { id: 'FhirSearch' });
  });

  test('a Basic client has a client and no user, session or jwt', () => {
    const object = buildRequestObject({ method: 'GET', url: '/Patient', identity: { method: 'basic', client } });
    assert.equal(object.client?.id, 'app');
    assert.equal(object.user, undefined);
    assert.equal(object.jwt, undefined);
  });

  test('routes are matched like the router: static before patterns', () => {
    assert.deepEqual(routeOf('POST', '/auth/test-policy'), { route: '/auth/test-policy', params: {} });
    assert.deepEqual(routeOf('GET', '/Patient/p1'), { route: '/:type/:id', params: { type: 'Patient', id: 'p1' } });
    assert.deepEqual(routeOf('GET', '/'), { route: '/', params: {} });
    assert.deepEqual(operationOf('GET', '/'), { id: 'FhirSearchSystem' });
    assert.deepEqual(routeOf('GET', '/nothing/here/at/all/x'), { params: {} });
    assert.deepEqual(operationOf('HEAD', '/:type/:id'), { id: 'FhirRead' });
    assert.equal(operationOf('GET', '/health'), undefined);
  });
});
