// Attacks on Patient/$everything and Bulk Data export. SMART App Launch 2.x §"Scopes and launch context"
// (patient/ scopes confine a token to its patient's compartment, wherever it reads from), the Bulk Data IG 2.0
// §"Bulk Data Status Request"/"File Request" (requiresAccessToken: output goes to the requester only) and
// OWASP ASVS 5.0 V8.2.1–V8.2.3 (one authorization decision at every entry point, no IDOR, data-level access
// re-checked when it is used: a job running later decides again on what it reads).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CookieBrowser, pkcePair } from '../helpers/browser.ts';
import { assertionKey, backendToken, eventually, type AssertionKey } from '../helpers/oauth.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { authorizeInBrowser, codeOf, smartAuthorizePath } from '../smart/browser-launch.ts';
import { bearer, put, seedClinicalData, smartPolicyFor, tokenRequest } from '../smart/fixtures.ts';
import { ExportRunner } from '../../src/bulk/runner.ts';
import { ASYNC, download, exported, get, kickOff, manifestOf } from '../bulk/fixtures.ts';

const { verifier, challenge } = pkcePair();
const CALLBACK = 'https://chart.example/callback';
const CLINICIAN = { id: 'clin', email: 'clin@example.com', password: 'clinician password 1' };
const refs = (bundle: { entry?: { resource: { resourceType: string; id: string } }[] }) =>
  (bundle.entry ?? []).map(({ resource }) => `${resource.resourceType}/${resource.id}`).sort();

for (const engine of engines()) {
  describe(`Bulk Data and $everything attacks (${engine})`, () => {
    let server: TestServer;
    let key: AssertionKey;

    async function patientToken(scope: string): Promise<string> {
      const path = smartAuthorizePath(server.url, { client_id: 'chart', redirect_uri: CALLBACK, code_challenge: challenge, scope });
      const code = codeOf(await authorizeInBrowser(new CookieBrowser(server.url), path, CLINICIAN, { patient: 'pat-a' }), CALLBACK);
      const token = await tokenRequest(server, { grant_type: 'authorization_code', code, client_id: 'chart', redirect_uri: CALLBACK, code_verifier: verifier });
      assert.equal(token.status, 200, JSON.stringify(token.body));
      return token.body.access_token as string;
    }

    async function exporterToken(id: string): Promise<string> {
      const issued = await backendToken(server, key, id, 'system/*.rs');
      assert.equal(issued.status, 200, issued.text);
      return issued.body.access_token as string;
    }

    before(async () => {
      // Jobs are run by the test's own runner, so that what happens between kick-off and run is the test's to say.
      server = await startTestServer(engine, { bulkExport: { chunkSize: 100, leaseSeconds: 60, retentionSeconds: 3600, pollMs: 50, runJobs: false } });
      key = await assertionKey();
      await seedClinicalData(server);
      await put(server, { resourceType: 'User', ...CLINICIAN } as never);
      await put(server, { resourceType: 'AccessPolicy', id: 'clinician', engine: 'allow', link: [{ resourceType: 'User', id: CLINICIAN.id }] } as never);
      await put(server, {
        resourceType: 'Client', id: 'chart', grant_types: ['authorization_code'], auth: { authorization_code: { redirect_uri: CALLBACK } },
        scope: ['launch/patient', 'patient/*.rs', 'patient/Observation.rs'],
      } as never);
      await smartPolicyFor(server, 'chart');
      for (const id of ['exporter', 'other-exporter', 'revoked-exporter']) {
        await put(server, { resourceType: 'Client', id, grant_types: ['client_credentials'], jwks: { keys: [key.jwk] }, scope: ['system/*.rs'] } as never);
        await smartPolicyFor(server, id);
      }
    });
    after(() => server.close());

    /** Runs every waiting job once, in this process, with the server's own context. */
    async function runJobs(): Promise<void> {
      const runner = new ExportRunner(server.app.ctx, () => {});
      runner.start();
      await eventually(async () => (await server.app.ctx.db.query(`select 1 from export_job where status in ('accepted', 'in-progress')`)).length === 0);
      await runner.stop();
    }

    test("$everything under a patient/ token: its own patient's record only; another patient is not found", async () => {
      const token = await patientToken('launch/patient patient/*.rs');
      const own = await bearer(server, token, 'GET', '/Patient/pat-a/$everything');
      assert.equal(own.status, 200, own.text);
      assert.deepEqual(refs(own.body), ['Encounter/enc-a', 'Observation/obs-a-lab', 'Observation/obs-a-vital', 'Patient/pat-a']);
      const other = await bearer(server, token, 'GET', '/Patient/pat-b/$everything');
      const missing = await bearer(server, token, 'GET', '/Patient/no-such/$everything');
      assert.equal(other.status, 404, 'another patient looks exactly like one that does not exist');
      assert.equal(missing.status, 404);
      assert.doesNotMatch(other.text, /obs-b|Brook/);
    });

    test('$everything reads each type only as far as the scopes read it: without a Patient read, the patient is out of sight', async () => {
      const token = await patientToken('launch/patient patient/Observation.rs');
      const response = await bearer(server, token, 'GET', '/Patient/pat-a/$everything');
      assert.equal(response.status, 404, response.text);
      assert.doesNotMatch(response.text, /obs-a|Ames/);
    });

    test("a patient/ token's Patient/$export is confined to its own patient", async () => {
      const token = await patientToken('launch/patient patient/*.rs');
      const status = await kickOff(server, '/Patient/$export', token);
      await runJobs();
      const ids = await exported(server, await manifestOf(server, status, token), token);
      assert.deepEqual(ids, ['Encounter/enc-a', 'Observation/obs-a-lab', 'Observation/obs-a-vital', 'Patient/pat-a']);
    });

    test("another client cannot poll, download or cancel an export, even the root client: it does not exist for them", async () => {
      const owner = await exporterToken('exporter');
      const status = await kickOff(server, '/$export?_type=Patient', owner);
      await runJobs();
      const manifest = await manifestOf(server, status, owner);
      const fileUrl = manifest.output[0].url;
      const intruder = await exporterToken('other-exporter');
      assert.equal((await get(server, status, intruder)).status, 404);
      assert.equal((await download(server, fileUrl, intruder)).status, 404);
      assert.equal((await get(server, status)).status, 404, 'the root client is another requester too');
      assert.equal((await download(server, fileUrl)).status, 404);
      assert.equal((await server.request('DELETE', status, { auth: null, headers: { authorization: `Bearer ${intruder}` } })).status, 404);
      assert.equal((await get(server, status, undefined, {})).status, 404);
      const anonymous = await fetch(fileUrl);
      assert.equal(anonymous.status, 401, 'output requires an access token');
      assert.equal((await download(server, fileUrl, owner)).status, 200, 'the owner still can');
    });

    test('guessed job ids and file names are 404, never a 500', async () => {
      const owner = await exporterToken('exporter');
      for (const path of ['/$export-status/00000000-0000-0000-0000-000000000000', '/$export-status/..%2f..%2fetc', "/$export-status/1'%20or%201=1", '/$export-file/x/Patient.ndjson']) {
        assert.equal((await get(server, path, owner)).status, 404, path);
      }
    });

    test('a client deleted after the kick-off gets nothing: the job fails when it runs', async () => {
      const token = await exporterToken('revoked-exporter');
      const status = await kickOff(server, '/$export', token);
      assert.equal((await server.request('DELETE', '/Client/revoked-exporter')).status, 200);
      await runJobs();
      const [job] = await server.app.ctx.db.query<{ status: string; error_status: number; exported: string }>(
        'select status, error_status, exported from export_job where id = $1', [status.split('/').pop()]);
      assert.equal(job.status, 'failed');
      assert.equal(Number(job.error_status), 403);
      assert.equal(Number(job.exported), 0);
      const [{ n }] = await server.app.ctx.db.query<{ n: number }>('select count(*)::int as n from export_file_part join export_job on id = job_id where id = $1', [status.split('/').pop()]);
      assert.equal(n, 0);
    });

    test('a policy withdrawn after the kick-off is honoured: the job fails and its requester is told why', async () => {
      const token = await exporterToken('exporter');
      const status = await kickOff(server, '/$export', token);
      await put(server, { resourceType: 'AccessPolicy', id: 'smart-exporter', engine: 'matcho', matcho: { uri: '#^/\\$export-status/' }, link: [{ resourceType: 'Client', id: 'exporter' }] } as never);
      try {
        await runJobs();
        const response = await get(server, status, token);
        assert.equal(response.status, 403, response.text);
        assert.equal(response.body.resourceType, 'OperationOutcome');
        assert.match(response.body.issue[0].diagnostics, /export failed/);
      } finally {
        await smartPolicyFor(server, 'exporter');
      }
    });

    test('an export needs an authenticated caller', async () => {
      const response = await server.request('GET', '/$export', { auth: null, headers: ASYNC });
      assert.equal(response.status, 401);
    });
  });
}
