// The `fhirclient` library (SMART's own JavaScript client) as a real SMART app in headless Chromium, against a
// real Warden: standalone launch with the patient picker and EHR launch with a minted context, then reading the
// patient and their Observations, and failing to read another patient; with offline_access, refreshing as
// fhirclient does (grant_type and refresh_token only, RFC 6749 §6), by itself before expiry and by client.refresh().
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../e2e/browser-harness.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { put, seedClinicalData, clinicianPolicyFor, smartPolicyFor } from './fixtures.ts';

const require = createRequire(import.meta.url);
const FHIR_CLIENT_JS = readFileSync(require.resolve('fhirclient/build/fhir-client.js'), 'utf8');
const CLINICIAN = { id: 'clinician', email: 'clinician@example.com', password: 'clinician password 1' };

interface AppResult {
  error?: string;
  patientId?: string;
  patientName?: string;
  encounterId?: string | null;
  observations?: string[];
  otherPatient?: string;
  fhirUser?: string | null;
  scope?: string;
  refreshed?: { rotated: boolean; patientId: string; scope: string } | null;
}

/** The SMART app: static pages on their own origin, loading fhirclient's browser build. */
async function startSmartApp(issuer: string): Promise<{ origin: string; close: () => Promise<void> }> {
  const page = (script: string) => `<!doctype html><meta charset="utf-8"><title>SMART app</title>
<pre id="out"></pre><script src="/fhir-client.js"></script><script>${script}</script>`;
  const pages: Record<string, string> = {
    '/fhir-client.js': FHIR_CLIENT_JS,
    // Standalone: the app knows its FHIR server.
    '/standalone.html': page(`FHIR.oauth2.authorize({ clientId: 'fhirclient-app', scope: 'launch/patient openid fhirUser patient/*.rs', redirectUri: '/app.html', iss: ${JSON.stringify(issuer)} });`),
    // EHR launch: fhirclient reads iss and launch from the launch URL the EHR opened.
    '/ehr-launch.html': page(`FHIR.oauth2.authorize({ clientId: 'fhirclient-app', scope: 'launch openid fhirUser patient/*.rs', redirectUri: '/app.html' });`),
    // offline_access, and access tokens so short that fhirclient refreshes before every request by itself.
    '/offline.html': page(`FHIR.oauth2.authorize({ clientId: 'fhirclient-offline', scope: 'launch/patient offline_access patient/*.rs', redirectUri: '/app.html', iss: ${JSON.stringify(issuer)} });`),
    '/app.html': page(`
      const out = document.getElementById('out');
      FHIR.oauth2.ready().then(async (client) => {
        const firstRefreshToken = client.state.tokenResponse.refresh_token;
        const patient = await client.patient.read();
        const observations = await client.request('Observation?patient=' + client.patient.id, { flat: true });
        const otherPatient = await client.request('Patient/pat-b').then(() => 'visible', (e) => 'status ' + e.status);
        let refreshed = null;
        if (firstRefreshToken) {
          await client.refresh();
          const again = await client.request('Patient/' + client.patient.id);
          refreshed = { rotated: client.state.tokenResponse.refresh_token !== firstRefreshToken, patientId: again.id, scope: client.state.tokenResponse.scope };
        }
        out.textContent = JSON.stringify({
          refreshed,
          patientId: client.patient.id,
          patientName: patient.name[0].given[0] + ' ' + patient.name[0].family,
          encounterId: client.encounter.id,
          observations: observations.map((o) => o.id).sort(),
          otherPatient,
          fhirUser: client.getFhirUser(),
          scope: client.state.tokenResponse.scope,
        });
      }).catch((e) => { out.textContent = JSON.stringify({ error: String(e && e.message || e) }); });`),
  };
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://app').pathname;
    const body = pages[path];
    if (body === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': path.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/html; charset=utf-8' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Drives Warden's pages (login, consent, patient picker) until the app writes its result. */
async function runApp(page: Page, url: string, patient?: string): Promise<AppResult> {
  await page.goto(url);
  // Whatever comes next: Warden's login, consent or picker page, or the app with its result written.
  const next = page.locator('input[name="username"], button[name="decision"][value="allow"], input[name="smart_patient"], #out:not(:empty)').first();
  for (let step = 0; step < 10; step++) {
    await next.waitFor({ timeout: 30_000 });
    if (await page.locator('#out:not(:empty)').count()) return JSON.parse((await page.textContent('#out')) ?? '{}') as AppResult;
    if (await page.locator('input[name="username"]').count()) {
      await page.fill('input[name="username"]', CLINICIAN.email);
      await page.fill('input[name="password"]', CLINICIAN.password);
      await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    } else if (await page.locator('button[name="decision"][value="allow"]').count()) {
      await Promise.all([page.waitForNavigation(), page.click('button[name="decision"][value="allow"]')]);
    } else {
      assert.ok(patient, 'the patient picker was shown but the test chose no patient');
      await page.check(`input[name="smart_patient"][value="${patient}"]`);
      await Promise.all([page.waitForNavigation(), page.click('button.primary')]);
    }
  }
  assert.fail(`the app never finished; last page ${page.url()}: ${(await page.content()).slice(0, 500)}`);
}

for (const engine of engines()) {
  describe(`fhirclient as a SMART app in Chromium (${engine})`, () => {
    let server: TestServer;
    let browser: Browser;
    let app: { origin: string; close: () => Promise<void> };

    before(async () => {
      server = await startTestServer(engine);
      app = await startSmartApp(server.url);
      browser = await launchChromium();
      await seedClinicalData(server);
      await put(server, { resourceType: 'Practitioner', id: 'prac-2', name: [{ family: 'House' }] } as never);
      await put(server, { resourceType: 'User', id: CLINICIAN.id, email: CLINICIAN.email, password: CLINICIAN.password, fhirUser: { reference: 'Practitioner/prac-2' } } as never);
      await put(server, {
        resourceType: 'Client',
        id: 'fhirclient-app',
        name: 'Chart Viewer',
        grant_types: ['authorization_code'],
        smart: { launch_uri: `${app.origin}/ehr-launch.html` },
        auth: { authorization_code: { redirect_uri: `${app.origin}/app.html` } },
        scope: ['launch', 'launch/patient', 'openid', 'fhirUser', 'patient/*.rs'],
      } as never);
      await smartPolicyFor(server, 'fhirclient-app');
      await put(server, {
        resourceType: 'Client',
        id: 'fhirclient-offline',
        name: 'Chart Viewer Offline',
        grant_types: ['authorization_code', 'refresh_token'],
        auth: { authorization_code: { redirect_uri: `${app.origin}/app.html`, access_token_expiration: 5 } },
        scope: ['launch/patient', 'offline_access', 'patient/*.rs'],
      } as never);
      await smartPolicyFor(server, 'fhirclient-offline');
      await clinicianPolicyFor(server, CLINICIAN.id);
    });
    after(async () => {
      await browser?.close();
      await app?.close();
      await server?.close();
    });

    test('standalone launch: sign in, consent, pick a patient, then read the patient and their Observations', async () => {
      const context = await browser.newContext();
      try {
        const result = await runApp(await context.newPage(), `${app.origin}/standalone.html`, 'pat-a');
        assert.equal(result.error, undefined, result.error);
        assert.equal(result.patientId, 'pat-a');
        assert.equal(result.patientName, 'Ada Ames');
        assert.deepEqual(result.observations, ['obs-a-lab', 'obs-a-vital']);
        assert.equal(result.otherPatient, 'status 404');
        assert.equal(result.fhirUser, 'Practitioner/prac-2');
        assert.equal(result.scope, 'launch/patient openid fhirUser patient/*.rs');
        assert.equal(result.refreshed, null, 'no offline_access, no refresh token');
      } finally {
        await context.close();
      }
    });

    test('offline_access: fhirclient refreshes by itself before expiry and on client.refresh(), sending no client_id', async () => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const refreshRequests: string[] = [];
        page.on('request', (request) => {
          if (request.url() === `${server.url}/auth/token` && request.postData()?.includes('grant_type=refresh_token')) refreshRequests.push(request.postData()!);
        });
        const result = await runApp(page, `${app.origin}/offline.html`, 'pat-a');
        assert.equal(result.error, undefined, result.error);
        assert.equal(result.patientId, 'pat-a');
        assert.deepEqual(result.observations, ['obs-a-lab', 'obs-a-vital']);
        assert.deepEqual(result.refreshed, { rotated: true, patientId: 'pat-a', scope: 'launch/patient offline_access patient/*.rs' });
        // A 5-second token is "about to expire" to fhirclient, so it refreshed before its requests, and once more on refresh().
        assert.ok(refreshRequests.length >= 2, `refresh requests: ${refreshRequests.length}`);
        for (const body of refreshRequests) assert.doesNotMatch(body, /client_id/, 'fhirclient sends no client_id for a public client');
      } finally {
        await context.close();
      }
    });

    test('EHR launch: the app opened with a minted launch value works on the EHR patient and encounter', async () => {
      const minted = await server.request('POST', '/auth/launch', { body: { patient: 'pat-b', encounter: 'enc-a', client: 'fhirclient-app' } });
      assert.equal(minted.status, 201, minted.text);
      const context = await browser.newContext();
      try {
        const result = await runApp(await context.newPage(), minted.body.launch_url);
        assert.equal(result.error, undefined, result.error);
        assert.equal(result.patientId, 'pat-b');
        assert.equal(result.patientName, 'Bob Brook');
        assert.equal(result.encounterId, 'enc-a');
        assert.deepEqual(result.observations, ['obs-b-lab', 'obs-b-vital']);
        // pat-b is this token's patient, so reading it is allowed; another patient would not be.
        assert.equal(result.otherPatient, 'visible');
      } finally {
        await context.close();
      }
    });
  });
}
