// AuditEvents keep their tokens and references as keys in their own row (src/search/index-keys.ts): every way a
// search reaches them (parameters and their modifiers, compartments, chains, _has, _revinclude, sorting, a
// reindex, events written before the keys) finds what rows found.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { restEvent, securityEvent, LOGIN, LOGIN_SUBTYPE } from '../../src/audit/event.ts';
import { AuditTrail } from '../../src/audit/trail.ts';
import { loadConfig } from '../../src/config.ts';
import { reindex } from '../../src/search/reindex.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

for (const engine of engines()) {
  describe(`AuditEvent search through index keys (${engine})`, () => {
    let server: TestServer;
    type Bundle = { entry?: { resource: { id: string; resourceType: string }; search?: { mode: string } }[] };
    const get = (path: string) => server.request<Bundle>('GET', path);
    const ids = async (path: string) => {
      const { status, body } = await get(path);
      assert.equal(status, 200, JSON.stringify(body));
      return (body.entry ?? []).filter((entry) => entry.search?.mode !== 'include').map((entry) => entry.resource.id).sort();
    };
    const events = {
      readP1: restEvent({ interaction: 'read', type: 'Patient', id: 'k1', versionId: '1', patients: ['k1'], outcome: '0' }, { clientId: 'app-a', requestId: 'req-a' }),
      readP2: restEvent({ interaction: 'read', type: 'Patient', id: 'k2', patients: ['k2'], outcome: '4', outcomeDesc: '404' }, { clientId: 'app-b', userId: 'u1', requestId: 'req-b' }),
      login: securityEvent({ type: LOGIN, subtype: [LOGIN_SUBTYPE], outcome: '0', entities: [{ reference: 'User/u1' }] }, { clientId: 'app-a', userId: 'u1', requestId: 'req-c' }),
    };

    before(async () => {
      server = await startTestServer(engine);
      for (const id of ['k1', 'k2']) {
        const put = await server.request('PUT', `/Patient/${id}`, { body: { resourceType: 'Patient', id, name: [{ family: id === 'k1' ? 'Keyes' : 'Other' }] } });
        assert.ok(put.status < 300, put.text);
      }
      const trail = new AuditTrail(server.app.ctx.db, { ...loadConfig({}).audit, batchSize: 10 }, () => {});
      await trail.record(Object.values(events));
      await trail.flush();
    });
    after(() => server.close());

    const only = (...names: (keyof typeof events)[]) => names.map((name) => events[name].id).sort();
    const mine = (found: string[]) => found.filter((id) => Object.values(events).some((event) => event.id === id));

    test('tokens: code, system|code, |code, system|, :not and :missing', async () => {
      assert.deepEqual(mine(await ids('/AuditEvent?outcome=4')), only('readP2'));
      assert.deepEqual(mine(await ids('/AuditEvent?outcome=|4')), only('readP2'));
      assert.deepEqual(mine(await ids('/AuditEvent?subtype=http://hl7.org/fhir/restful-interaction|read')), only('readP1', 'readP2'));
      assert.deepEqual(mine(await ids('/AuditEvent?subtype=http://hl7.org/fhir/restful-interaction|')), only('readP1', 'readP2'));
      assert.deepEqual(mine(await ids('/AuditEvent?type=110114')), only('login'));
      assert.deepEqual(mine(await ids('/AuditEvent?type=http://other|110114')), []);
      assert.deepEqual(mine(await ids('/AuditEvent?outcome:not=4')), only('readP1', 'login'));
      assert.deepEqual(mine(await ids('/AuditEvent?action:missing=true')), only('login'));
      assert.deepEqual(mine(await ids('/AuditEvent?action:missing=false&action=R')), only('readP1', 'readP2'));
      assert.deepEqual(mine(await ids('/AuditEvent?entity:identifier=req-b,req-c')), only('readP2', 'login'));
    });

    test('references: Type/id, a bare id, a URL on this server, another server\'s URL, :Type', async () => {
      assert.deepEqual(mine(await ids('/AuditEvent?patient=Patient/k1')), only('readP1'));
      assert.deepEqual(mine(await ids('/AuditEvent?patient=k2')), only('readP2'));
      assert.deepEqual(mine(await ids(`/AuditEvent?agent=${encodeURIComponent(`${server.url}/Client/app-a`)}`)), only('readP1', 'login'));
      assert.deepEqual(mine(await ids('/AuditEvent?agent=https://elsewhere.example/Client/app-a')), []);
      assert.deepEqual(mine(await ids('/AuditEvent?agent:User=u1')), only('readP2', 'login'));
      assert.deepEqual(mine(await ids('/AuditEvent?entity=User/u1')), only('login'));
    });

    test('chains, _has and _revinclude reach the events through their keys', async () => {
      assert.deepEqual(mine(await ids('/AuditEvent?patient.family=Keyes')), only('readP1'));
      assert.deepEqual(await ids('/Patient?_has:AuditEvent:patient:outcome=4'), ['k2']);
      assert.deepEqual(await ids('/Patient?_has:AuditEvent:entity:agent=Client/app-a'), ['k1']);
      const { body } = await get('/Patient?_id=k1&_revinclude=AuditEvent:patient');
      const included = (body.entry ?? []).filter((entry) => entry.search?.mode === 'include').map((entry) => entry.resource.id);
      assert.deepEqual(mine(included), only('readP1'));
    });

    test('sorting by a token and by a reference', async () => {
      const { body } = await get('/AuditEvent?entity:identifier=req-a,req-b,req-c&_sort=-outcome,-agent');
      assert.deepEqual(body.entry!.map((entry) => entry.resource.id), [events.readP2.id, events.login.id, events.readP1.id]);
    });

    test('a reindex writes keys, not rows, and finds the same', async () => {
      await server.app.ctx.db.query(`update resource set index_keys = null where type = 'AuditEvent'`);
      assert.deepEqual(mine(await ids('/AuditEvent?patient=k1')), []);
      await reindex(server.app.ctx.db, ['AuditEvent']);
      assert.deepEqual(mine(await ids('/AuditEvent?patient=k1')), only('readP1'));
      const [{ n }] = await server.app.ctx.db.query<{ n: number }>(
        `select (select count(*) from search_token where type = 'AuditEvent') + (select count(*) from search_reference where type = 'AuditEvent') as n`,
      );
      assert.equal(Number(n), 0);
    });
  });
}
