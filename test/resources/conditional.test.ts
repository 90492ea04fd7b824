import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertOutcome } from '../helpers/outcome.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const patient = (value: string, extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', identifier: [{ system: 'urn:cond', value }], ...extra });

for (const engine of engines()) {
  describe(`conditional interactions, preconditions and Prefer (${engine})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(engine);
    });
    after(() => server.close());

    const total = async (search: string) => (await server.request('GET', `${search}&_count=0`)).body.total as number;

    test('If-None-Exist creates once, then answers 200 with what exists; several matches are 412', async () => {
      const headers = { 'if-none-exist': 'identifier=urn:cond|ine' };
      const first = await server.request('POST', '/Patient', { body: patient('ine'), headers });
      assert.equal(first.status, 201, first.text);
      const second = await server.request('POST', '/Patient', { body: patient('ine', { gender: 'male' }), headers });
      assert.equal(second.status, 200, second.text);
      assert.equal(second.body.id, first.body.id);
      assert.equal(second.body.gender, undefined, 'nothing was written');
      await server.request('POST', '/Patient', { body: patient('ine') });
      assertOutcome(await server.request('POST', '/Patient', { body: patient('ine'), headers }), 412, /more than one/);
    });

    test('two conditional creates at once make one resource', async () => {
      const create = () => server.request('POST', '/Patient', { body: patient('race'), headers: { 'if-none-exist': 'identifier=urn:cond|race' } });
      const answers = await Promise.all([create(), create(), create(), create()]);
      assert.deepEqual(answers.map((answer) => answer.status).sort(), [200, 200, 200, 201]);
      assert.equal(await total('/Patient?identifier=urn:cond|race'), 1);
    });

    test('conditional update creates on no match, updates the one match, and is 412 on several', async () => {
      const created = await server.request('PUT', '/Patient?identifier=urn:cond|upd', { body: patient('upd') });
      assert.equal(created.status, 201, created.text);
      const updated = await server.request('PUT', '/Patient?identifier=urn:cond|upd', { body: patient('upd', { gender: 'female' }) });
      assert.equal(updated.status, 200, updated.text);
      assert.equal(updated.body.id, created.body.id);
      assert.equal(updated.headers.get('etag'), 'W/"2"');
      assertOutcome(await server.request('PUT', '/Patient?identifier=urn:cond|upd', { body: patient('upd', { id: 'other-id' }) }), 400, /not that of the resource/);
      await server.request('POST', '/Patient', { body: patient('upd') });
      assertOutcome(await server.request('PUT', '/Patient?identifier=urn:cond|upd', { body: patient('upd') }), 412, /more than one/);
      assertOutcome(await server.request('PUT', '/Patient', { body: patient('upd') }), 400, /needs search parameters/);
    });

    test('conditional patch patches the one match; none is 404', async () => {
      await server.request('PUT', '/Patient/cp', { body: patient('cp') });
      const patched = await server.request('PATCH', '/Patient?identifier=urn:cond|cp', {
        raw: JSON.stringify([{ op: 'add', path: '/gender', value: 'other' }]),
        contentType: 'application/json-patch+json',
      });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.body.gender, 'other');
      assertOutcome(
        await server.request('PATCH', '/Patient?identifier=urn:cond|nobody', { raw: '[]', contentType: 'application/json-patch+json' }),
        404,
        /No Patient matches/,
      );
    });

    test('conditional delete removes every match; deleting again is 204', async () => {
      await server.request('PUT', '/Patient/cd-1', { body: patient('cd') });
      await server.request('PUT', '/Patient/cd-2', { body: patient('cd') });
      assert.equal((await server.request('DELETE', '/Patient?identifier=urn:cond|cd')).status, 204);
      assert.equal(await total('/Patient?identifier=urn:cond|cd'), 0);
      assert.equal((await server.request('DELETE', '/Patient?identifier=urn:cond|cd')).status, 204);
      assert.equal((await server.request('DELETE', '/Patient/cd-1')).status, 204, 'a deleted resource deletes idempotently');
    });

    test('If-None-Match with the current version, and If-Modified-Since not before the last change, are 304', async () => {
      const written = await server.request('PUT', '/Patient/nm', { body: patient('nm') });
      const etag = written.headers.get('etag')!;
      const notModified = await server.request('GET', '/Patient/nm', { headers: { 'if-none-match': etag } });
      assert.equal(notModified.status, 304);
      assert.equal(notModified.text, '');
      assert.equal((await server.request('GET', '/Patient/nm', { headers: { 'if-none-match': 'W/"99"' } })).status, 200);
      const lastModified = written.headers.get('last-modified')!;
      assert.equal((await server.request('GET', '/Patient/nm', { headers: { 'if-modified-since': lastModified } })).status, 304);
      assert.equal((await server.request('GET', '/Patient/nm', { headers: { 'if-modified-since': 'Mon, 01 Jan 2001 00:00:00 GMT' } })).status, 200);
    });

    test('Prefer: return=minimal answers no body, return=OperationOutcome an outcome', async () => {
      const minimal = await server.request('PUT', '/Patient/pref', { body: patient('pref'), headers: { prefer: 'return=minimal' } });
      assert.equal(minimal.status, 201);
      assert.equal(minimal.text, '');
      assert.ok(minimal.headers.get('location'));
      const outcome = await server.request('PUT', '/Patient/pref', { body: patient('pref'), headers: { prefer: 'return=OperationOutcome' } });
      assert.equal(outcome.status, 200);
      assert.equal(outcome.body.resourceType, 'OperationOutcome');
      assert.match(outcome.body.issue[0].diagnostics, /Patient\/pref version 2/);
    });

    test('a transaction answers as Prefer asks', async () => {
      const answer = await server.request('POST', '/', {
        headers: { prefer: 'return=minimal' },
        body: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient('tx-pref'), request: { method: 'POST', url: 'Patient' } }] },
      });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.entry[0].resource, undefined);
      assert.equal(answer.body.entry[0].response.status, '201 Created');
    });
  });

  describe(`type and system history, compartment and form search (${engine})`, () => {
    let server: TestServer;
    let between: string;
    before(async () => {
      server = await startTestServer(engine);
      await server.request('PUT', '/Patient/hx-1', { body: { resourceType: 'Patient', gender: 'male' } });
      await server.request('PUT', '/Observation/hx-o', { body: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/hx-1' } } });
      const read = await server.request('GET', '/Observation/hx-o');
      between = new Date(Date.parse(read.body.meta.lastUpdated) + 1).toISOString();
      // A version written strictly after `between`, whatever the clock's resolution.
      while (new Date().toISOString() <= between) await new Promise((resolve) => setImmediate(resolve));
      await server.request('PUT', '/Patient/hx-1', { body: { resourceType: 'Patient', gender: 'female' } });
      await server.request('PUT', '/Patient/hx-2', { body: { resourceType: 'Patient' } });
    });
    after(() => server.close());

    test('GET /{type}/_history lists the versions of every resource of the type, newest first', async () => {
      const history = await server.request('GET', '/Patient/_history');
      assert.equal(history.status, 200, history.text);
      assert.equal(history.body.type, 'history');
      const versions = history.body.entry.map((entry: any) => `${entry.resource.id}@${entry.response.etag}`);
      assert.deepEqual(versions.slice(0, 3), ['hx-2@W/"1"', 'hx-1@W/"2"', 'hx-1@W/"1"']);
    });

    test('GET /_history lists every type; _count pages it', async () => {
      const page = await server.request('GET', '/_history?_count=2');
      assert.equal(page.status, 200, page.text);
      assert.equal(page.body.entry.length, 2);
      assert.ok(page.body.link.some((link: any) => link.relation === 'next'));
      const types = new Set((await server.request('GET', '/_history')).body.entry.map((entry: any) => entry.resource.resourceType));
      assert.ok(types.has('Patient') && types.has('Observation'));
    });

    test('_since keeps the versions written since; _at the versions current then', async () => {
      const since = await server.request('GET', `/Patient/_history?_since=${encodeURIComponent(between)}`);
      assert.equal(since.status, 200, since.text);
      assert.deepEqual(since.body.entry.map((entry: any) => entry.resource.id).sort(), ['hx-1', 'hx-2']);
      const at = await server.request('GET', `/Patient/_history?_at=${encodeURIComponent(between)}`);
      assert.deepEqual(at.body.entry.map((entry: any) => `${entry.resource.id}:${entry.resource.gender}`), ['hx-1:male']);
      assertOutcome(await server.request('GET', '/Patient/_history?_since=yesterday'), 400, /_since must be a FHIR instant/);
      assertOutcome(await server.request('GET', '/Patient/_history?gender=male'), 400, /Unsupported history parameter/);
    });

    test('GET /Patient/{id}/{type} searches within that patient', async () => {
      const found = await server.request('GET', '/Patient/hx-1/Observation');
      assert.equal(found.status, 200, found.text);
      assert.deepEqual(found.body.entry.map((entry: any) => entry.resource.id), ['hx-o']);
      assert.equal((await server.request('GET', '/Patient/hx-2/Observation')).body.entry.length, 0);
      assertOutcome(await server.request('GET', '/Encounter/e/Observation'), 404, /Patient compartment/);
    });

    test('POST /{type}/_search takes the parameters as a form', async () => {
      const found = await server.request('POST', '/Patient/_search', { raw: 'gender=female', contentType: 'application/x-www-form-urlencoded' });
      assert.equal(found.status, 200, found.text);
      assert.deepEqual(found.body.entry.map((entry: any) => entry.resource.id), ['hx-1']);
      assertOutcome(await server.request('POST', '/Patient/_search', { body: { gender: 'female' } }), 415, /as a form/);
    });

    test('the CapabilityStatement says what is supported', async () => {
      const capability = (await server.request('GET', '/metadata')).body;
      const rest = capability.rest[0];
      assert.deepEqual(rest.interaction.map((i: any) => i.code).sort(), ['batch', 'history-system', 'search-system', 'transaction']);
      const patient = rest.resource.find((r: any) => r.type === 'Patient');
      assert.ok(patient.interaction.some((i: any) => i.code === 'history-type'));
      assert.equal(patient.conditionalCreate, true);
      assert.equal(patient.conditionalUpdate, true);
      assert.equal(patient.conditionalDelete, 'multiple');
    });
  });
}
