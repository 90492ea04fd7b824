// SMART 2.x fhirContext: given to POST /auth/launch, checked item by item, and returned unchanged in the token
// response of the EHR launch (and of its refreshes). Bad input is a 4xx in RFC 6749 JSON naming what is wrong.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CookieBrowser, pkcePair } from '../helpers/browser.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { readFhirContext } from '../../src/smart/fhir-context.ts';
import { authorizeInBrowser, codeOf, smartAuthorizePath } from './browser-launch.ts';
import { put, seedClinicalData, clinicianPolicyFor, smartPolicyFor, tokenRequest } from './fixtures.ts';

const { verifier, challenge } = pkcePair();
const CALLBACK = 'https://forms.example/callback';
const CLINICIAN = { id: 'dr-ode', email: 'ode@example.com', password: 'clinician password 1' };
const ORDER_ROLE = 'https://forms.example/role/order';

const FHIR_CONTEXT = [
  { reference: 'Questionnaire/intake' },
  { reference: 'ServiceRequest/sr-1', role: ORDER_ROLE, type: 'ServiceRequest' },
  { canonical: 'http://forms.example/Questionnaire/phq-9|2.0', type: 'Questionnaire' },
  { identifier: { system: 'urn:oid:2.16.840.1.113883.19.5', value: 'A-1234' }, type: 'DiagnosticReport' },
  { reference: 'Encounter/enc-a', role: 'https://forms.example/role/previous-visit' },
];

describe('fhirContext shape', () => {
  test('the SMART 2.0.0 form, a plain reference, is read as {reference}', () => {
    assert.deepEqual(readFhirContext(['Questionnaire/q1']), [{ reference: 'Questionnaire/q1' }]);
  });

  test('each item keeps exactly the fields it was given', () => {
    assert.deepEqual(readFhirContext(FHIR_CONTEXT), FHIR_CONTEXT);
  });
});

for (const engine of engines()) {
  describe(`SMART fhirContext (${engine})`, () => {
    let server: TestServer;
    const launch = (body: unknown) => server.request('POST', '/auth/launch', { body });
    const authorizePath = (launchValue: string) =>
      smartAuthorizePath(server.url, {
        client_id: 'forms-app',
        redirect_uri: CALLBACK,
        code_challenge: challenge,
        scope: 'launch offline_access patient/*.rs',
        launch: launchValue,
      });

    before(async () => {
      server = await startTestServer(engine);
      await seedClinicalData(server);
      await put(server, { resourceType: 'Questionnaire', id: 'intake', status: 'active' } as never);
      await put(server, { resourceType: 'ServiceRequest', id: 'sr-1', status: 'active', intent: 'order', subject: { reference: 'Patient/pat-a' } } as never);
      await put(server, { resourceType: 'User', ...CLINICIAN } as never);
      await put(server, {
        resourceType: 'Client',
        id: 'forms-app',
        grant_types: ['authorization_code', 'refresh_token'],
        auth: { authorization_code: { redirect_uri: CALLBACK } },
      } as never);
      await smartPolicyFor(server, 'forms-app');
      await clinicianPolicyFor(server, CLINICIAN.id);
    });
    after(() => server.close());

    test('the EHR launch returns fhirContext in the token response, and every refresh keeps it', async () => {
      const minted = await launch({ patient: 'pat-a', client: 'forms-app', fhirContext: FHIR_CONTEXT });
      assert.equal(minted.status, 201, minted.text);
      assert.deepEqual(minted.body.fhirContext, FHIR_CONTEXT);
      const response = await authorizeInBrowser(new CookieBrowser(server.url), authorizePath(minted.body.launch), CLINICIAN);
      const code = codeOf(response, CALLBACK);
      const token = await tokenRequest(server, { grant_type: 'authorization_code', code, client_id: 'forms-app', redirect_uri: CALLBACK, code_verifier: verifier });
      assert.equal(token.status, 200, JSON.stringify(token.body.error_description ?? ''));
      assert.equal(token.body.patient, 'pat-a');
      assert.deepEqual(token.body.fhirContext, FHIR_CONTEXT);
      const refreshed = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: token.body.refresh_token, client_id: 'forms-app' });
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body.error_description ?? ''));
      assert.deepEqual(refreshed.body.fhirContext, FHIR_CONTEXT);
    });

    test('a launch without fhirContext gives a token response without it', async () => {
      const minted = await launch({ patient: 'pat-a', client: 'forms-app' });
      const response = await authorizeInBrowser(new CookieBrowser(server.url), authorizePath(minted.body.launch), CLINICIAN);
      const token = await tokenRequest(server, { grant_type: 'authorization_code', code: codeOf(response, CALLBACK), client_id: 'forms-app', redirect_uri: CALLBACK, code_verifier: verifier });
      assert.equal(token.status, 200);
      assert.equal('fhirContext' in token.body, false);
    });

    const malformed: [string, unknown, RegExp][] = [
      ['not a list', { reference: 'Questionnaire/intake' }, /fhirContext must be a list of objects/],
      ['an item that is a number', [42], /fhirContext\[0\] must be an object/],
      ['an unknown field', [{ reference: 'Questionnaire/intake', display: 'Intake' }], /fhirContext\[0\] has unknown field "display"/],
      ['an absolute reference', [{ reference: 'https://elsewhere.example/Questionnaire/intake' }], /fhirContext\[0\]\.reference must be a relative reference/],
      ['no reference, canonical or identifier', [{ type: 'Questionnaire', role: ORDER_ROLE }], /fhirContext\[0\] must name its resource by reference, canonical or identifier/],
      ['a relative role', [{ reference: 'Questionnaire/intake' }, { reference: 'ServiceRequest/sr-1', role: 'order' }], /fhirContext\[1\]\.role must be an absolute URI/],
      ['a type that contradicts the reference', [{ reference: 'Questionnaire/intake', type: 'Observation' }], /fhirContext\[0\]\.type "Observation" contradicts its reference to a Questionnaire/],
      ['an identifier without a value', [{ identifier: { system: 'urn:oid:1.2.3' }, type: 'DiagnosticReport' }], /fhirContext\[0\]\.identifier\.value must be a non-empty string/],
      ['a canonical that is not a URI', [{ canonical: 'phq-9' }], /fhirContext\[0\]\.canonical must be a canonical URL/],
      ['the launch patient in fhirContext', [{ reference: 'Patient/pat-a' }], /send the launch patient as "patient"/],
    ];
    for (const [name, fhirContext, message] of malformed) {
      test(`fhirContext with ${name} is refused with 400 invalid_request saying so`, async () => {
        const response = await launch({ patient: 'pat-a', fhirContext });
        assert.equal(response.status, 400, response.text);
        assert.equal(response.body.error, 'invalid_request');
        assert.match(response.body.error_description, message);
      });
    }

    test('a fhirContext reference to a resource that does not exist is 422 invalid_request', async () => {
      const response = await launch({ patient: 'pat-a', fhirContext: [{ reference: 'Questionnaire/missing' }] });
      assert.equal(response.status, 422, response.text);
      assert.equal(response.body.error, 'invalid_request');
      assert.match(response.body.error_description, /fhirContext\[0\]: Questionnaire\/missing does not exist/);
    });

    test('every /auth/launch error is RFC 6749 JSON, an unauthenticated caller included', async () => {
      const anonymous = await server.request('POST', '/auth/launch', { auth: null, body: { patient: 'pat-a' } });
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.body.error, 'invalid_client');
      assert.equal(typeof anonymous.body.error_description, 'string');
      const notJson = await server.request('POST', '/auth/launch', { raw: '{"patient":', contentType: 'application/json' });
      assert.equal(notJson.status, 400);
      assert.equal(notJson.body.error, 'invalid_request');
    });
  });
}
