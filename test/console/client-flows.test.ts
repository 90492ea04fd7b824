// The console's client forms produce Clients the server accepts, and an edit form finds the flow it was made with.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FLOWS, flowOf, hasSmartPolicy, smartPolicyFor, toClient, valuesOf, type FlowId } from '../../console/src/pages/client-flows.ts';
import { CookieBrowser, pkcePair } from '../helpers/browser.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { authorizeInBrowser, codeOf, smartAuthorizePath } from '../smart/browser-launch.ts';
import { bearer, clinicianPolicyFor, seedClinicalData, tokenRequest } from '../smart/fixtures.ts';

/** What an administrator would type in each flow's form. */
const FORM: Record<FlowId, Record<string, string>> = {
  basic: { id: 'f-basic', name: 'Billing' },
  client_credentials: { id: 'f-cc', access_token_expiration: '600', token_format: 'opaque', audience: 'https://fhir.example.org' },
  web: { id: 'f-web', redirect_uri: 'https://portal.example.org/cb', refresh_token: 'on', first_party: 'on', scope: 'openid profile', pkce: 'on' },
  spa: { id: 'f-spa', redirect_uri: 'https://app.example.org/cb\nhttps://app.example.org/cb2', allowed_origins: 'https://app.example.org', token_format: 'jwt' },
  password: { id: 'f-password', confidential: 'on', refresh_token: 'on' },
  implicit: { id: 'f-implicit', redirect_uri: 'https://legacy.example.org/cb', token_format: 'jwt' },
  smart: { id: 'f-smart', name: 'Growth chart', launch_uri: 'https://smart.example.org/launch', redirect_uri: 'https://smart.example.org/cb', scope: 'launch/patient openid fhirUser patient/*.rs' },
};

describe('console client forms', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('pglite');
  });
  after(() => server.close());

  for (const flow of FLOWS) {
    test(`the ${flow.title} form makes a Client the server accepts and reopens as ${flow.id}`, async () => {
      const client = toClient(flow, FORM[flow.id], null);
      const hasSecret = flow.secret === 'required' || (flow.secret === 'optional' && FORM[flow.id].confidential === 'on');
      if (hasSecret) client.secret = 'a-secret-made-in-the-browser';
      assert.ok((client.grant_types as string[]).includes(flow.grant));
      const created = await server.request('POST', '/Client', { body: client });
      assert.equal(created.status, 201, created.text);
      assert.equal(flowOf(created.body).id, flow.id);
      assert.equal(Boolean(created.body.secret), hasSecret);
      const values = valuesOf(created.body, flow);
      assert.equal(values.id, FORM[flow.id].id);
      if (FORM[flow.id].redirect_uri) assert.equal(values.redirect_uri, FORM[flow.id].redirect_uri);
    });
  }

  test('public authorization-code clients always require PKCE and no secret', () => {
    const spa = toClient(FLOWS.find((flow) => flow.id === 'spa')!, FORM.spa, null);
    const settings = (spa.auth as Record<string, Record<string, unknown>>).authorization_code!;
    assert.equal(settings.pkce, true);
    assert.equal(settings.secret_required, false);
    assert.equal(spa.secret, undefined);
  });

  test('editing keeps what the form does not show: other grants, their settings and the stored secret hash', () => {
    const existing = {
      resourceType: 'Client', id: 'multi', secret: '$s0$f0801$abc$def', grant_types: ['basic', 'client_credentials'],
      auth: { client_credentials: { access_token_expiration: 60 } }, meta: { versionId: '3' },
    };
    const basicFlow = FLOWS.find((flow) => flow.id === 'basic')!;
    const edited = toClient(basicFlow, { id: 'ignored', name: 'Renamed' }, existing);
    assert.equal(edited.id, 'multi');
    assert.equal(edited.secret, existing.secret);
    assert.deepEqual(edited.grant_types, ['basic', 'client_credentials']);
    assert.deepEqual(edited.auth, existing.auth);
    assert.equal(edited.name, 'Renamed');
  });

  test('an Aidbox-shaped Client (top-level redirect_uri, no grant_types) opens as the web app it is, with its redirect URIs', async () => {
    // The "Users and Clients" seed, verbatim.
    const created = await server.request('POST', '/Client', {
      body: { resourceType: 'Client', id: 'seed-web-app', secret: 'client-secret', redirect_uri: 'http://localhost:4200,https://example.com' },
    });
    assert.equal(created.status, 201, created.text);
    const flow = flowOf(created.body);
    assert.equal(flow.id, 'web');
    const values = valuesOf(created.body, flow);
    assert.equal(values.redirect_uri, 'http://localhost:4200\nhttps://example.com');
    assert.equal(flowOf({ resourceType: 'Client', id: 'seed-spa', redirect_uri: 'http://localhost:4200' }).id, 'spa');
    // Saved through the form, the URIs move under auth.authorization_code, where the form reads them back.
    const saved = toClient(flow, values, created.body);
    assert.equal(saved.redirect_uri, undefined);
    assert.deepEqual(saved.grant_types, ['authorization_code']);
    assert.deepEqual((saved.auth as Record<string, Record<string, unknown>>).authorization_code.redirect_uri, ['http://localhost:4200', 'https://example.com']);
    const updated = await server.request('PUT', '/Client/seed-web-app', { body: saved });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(valuesOf(updated.body, flowOf(updated.body)).redirect_uri, 'http://localhost:4200\nhttps://example.com');
  });

  test('a SMART app made by the form, with the policy the form makes with it, reads FHIR data at once', async () => {
    await seedClinicalData(server);
    const user = { id: 'smart-nurse', email: 'nurse@example.com', password: 'nurse password 12' };
    assert.equal((await server.request('PUT', `/User/${user.id}`, { body: { resourceType: 'User', ...user } })).status, 201);
    // Scopes only narrow what the user may do: the user has rights of their own.
    await clinicianPolicyFor(server, user.id);
    const callback = 'https://smart.example.org/cb';
    const smartFlow = FLOWS.find((flow) => flow.id === 'smart')!;
    const client = toClient(smartFlow, { id: 'console-smart', name: 'Growth chart', redirect_uri: callback, scope: 'launch/patient patient/*.rs' }, null);
    assert.equal((await server.request('POST', '/Client', { body: client })).status, 201);
    const policy = smartPolicyFor('console-smart');
    assert.equal(hasSmartPolicy([], 'console-smart'), false);
    assert.equal(hasSmartPolicy([policy], 'console-smart'), true);
    const created = await server.request('POST', '/AccessPolicy', { body: policy });
    assert.equal(created.status, 201, created.text);

    const { verifier, challenge } = pkcePair();
    const path = smartAuthorizePath(server.url, { client_id: 'console-smart', redirect_uri: callback, code_challenge: challenge, scope: 'launch/patient patient/*.rs' });
    const code = codeOf(await authorizeInBrowser(new CookieBrowser(server.url), path, user, { patient: 'pat-a' }), callback);
    const token = await tokenRequest(server, { grant_type: 'authorization_code', code, client_id: 'console-smart', redirect_uri: callback, code_verifier: verifier });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.equal(token.body.patient, 'pat-a');
    const read = await bearer(server, token.body.access_token, 'GET', '/Patient/pat-a');
    assert.equal(read.status, 200, read.text);
    assert.equal((await bearer(server, token.body.access_token, 'GET', '/Observation?patient=pat-a')).status, 200);
  });
});
