// SMART Backend Services: client_credentials with a signed client assertion (private_key_jwt), system/ scopes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertionKey as signer, clientAssertion as assertion, type AssertionKey as Signer } from '../helpers/oauth.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { bearer, ids, put, seedClinicalData, smartPolicyFor, tokenRequest } from './fixtures.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

for (const engine of engines()) {
  describe(`SMART backend services (${engine})`, () => {
    let server: TestServer;
    let rs384: Signer;
    let es384: Signer;
    let tokenUrl: string;

    const tokenWith = async (clientId: string, key: Signer, scope: string, extra: Record<string, string> = {}) =>
      tokenRequest(server, {
        grant_type: 'client_credentials',
        scope,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await assertion(key, clientId, tokenUrl),
        ...extra,
      });

    before(async () => {
      server = await startTestServer(engine);
      tokenUrl = `${server.url}/auth/token`;
      [rs384, es384] = await Promise.all([signer('RS384'), signer('ES384')]);
      await seedClinicalData(server);
      await put(server, {
        resourceType: 'Client',
        id: 'bulk-exporter',
        grant_types: ['client_credentials'],
        jwks: { keys: [rs384.jwk, es384.jwk] },
        scope: ['system/*.rs', 'system/Observation.rs?category=laboratory'],
      } as never);
      await put(server, {
        resourceType: 'Client',
        id: 'lab-feed',
        grant_types: ['client_credentials'],
        jwks: { keys: [es384.jwk] },
        scope: ['system/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory'],
      } as never);
      await smartPolicyFor(server, 'bulk-exporter');
      await smartPolicyFor(server, 'lab-feed');
    });
    after(() => server.close());

    test('a client assertion signed with RS384 gets a system/ token that reads every patient', async () => {
      const token = await tokenWith('bulk-exporter', rs384, 'system/Observation.rs system/Patient.rs');
      assert.equal(token.status, 200, JSON.stringify(token.body));
      assert.equal(token.body.scope, 'system/Observation.rs system/Patient.rs');
      const search = await bearer(server, token.body.access_token, 'GET', '/Observation');
      assert.equal(search.status, 200, search.text);
      assert.deepEqual(ids(search.body), ['obs-a-lab', 'obs-a-vital', 'obs-b-lab', 'obs-b-vital']);
      assert.equal((await bearer(server, token.body.access_token, 'GET', '/Patient/pat-b')).status, 200);
    });

    test('a client assertion signed with ES384 is accepted too', async () => {
      const token = await tokenWith('bulk-exporter', es384, 'system/Patient.rs');
      assert.equal(token.status, 200, JSON.stringify(token.body));
    });

    test('a client assertion used twice is refused (jti replay)', async () => {
      const signed = await assertion(rs384, 'bulk-exporter', tokenUrl);
      const form = { grant_type: 'client_credentials', scope: 'system/Patient.rs', client_assertion_type: ASSERTION_TYPE, client_assertion: signed };
      assert.equal((await tokenRequest(server, form)).status, 200);
      const replay = await tokenRequest(server, form);
      assert.equal(replay.status, 401);
      assert.equal(replay.body.error, 'invalid_client');
    });

    test('a client assertion for another audience is refused', async () => {
      const signed = await assertion(rs384, 'bulk-exporter', 'https://other.example/token');
      const response = await tokenRequest(server, { grant_type: 'client_credentials', scope: 'system/Patient.rs', client_assertion_type: ASSERTION_TYPE, client_assertion: signed });
      assert.equal(response.status, 401);
      assert.equal(response.body.error, 'invalid_client');
    });

    test('patient/ and user/ scopes are refused: a backend client has no patient or user', async () => {
      const response = await tokenWith('bulk-exporter', rs384, 'patient/Observation.rs');
      assert.equal(response.status, 400);
      assert.equal(response.body.error, 'invalid_scope');
    });

    test('a scope wider than Client.scope is narrowed to it; one outside it is refused', async () => {
      const narrowed = await tokenWith('bulk-exporter', rs384, 'system/Observation.cruds');
      assert.equal(narrowed.status, 200, JSON.stringify(narrowed.body));
      assert.equal(narrowed.body.scope, 'system/Observation.rs');
      const refused = await tokenWith('lab-feed', es384, 'system/Patient.rs');
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error, 'invalid_scope');
    });

    test('scopes are enforced on every request: a read-only token cannot write', async () => {
      const token = await tokenWith('bulk-exporter', rs384, 'system/*.rs');
      const created = await bearer(server, token.body.access_token, 'POST', '/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' } });
      assert.equal(created.status, 403, created.text);
      assert.match(created.headers.get('www-authenticate') ?? '', /insufficient_scope/);
      const other = await bearer(server, token.body.access_token, 'DELETE', '/Patient/pat-a');
      assert.equal(other.status, 403);
    });

    test('a narrowed scope confines search and read to its category', async () => {
      const token = await tokenWith('lab-feed', es384, 'system/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory');
      assert.equal(token.status, 200, JSON.stringify(token.body));
      const search = await bearer(server, token.body.access_token, 'GET', '/Observation');
      assert.equal(search.status, 200, search.text);
      assert.deepEqual(ids(search.body), ['obs-a-lab', 'obs-b-lab']);
      assert.equal(search.body.total, 2);
      assert.equal((await bearer(server, token.body.access_token, 'GET', '/Observation/obs-a-lab')).status, 200);
      assert.equal((await bearer(server, token.body.access_token, 'GET', '/Observation/obs-a-vital')).status, 404);
      assert.equal((await bearer(server, token.body.access_token, 'GET', '/Patient/pat-a')).status, 403);
    });

    test('a token issued for another audience is refused by the API (wrong aud)', async () => {
      const token = await tokenWith('bulk-exporter', rs384, 'system/Patient.rs', { audience: 'https://other-fhir.example/fhir' });
      assert.equal(token.status, 200, JSON.stringify(token.body));
      const read = await bearer(server, token.body.access_token, 'GET', '/Patient/pat-a');
      assert.equal(read.status, 401);
      assert.match(read.headers.get('www-authenticate') ?? '', /invalid_token/);
    });
  });
}
