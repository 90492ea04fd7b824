// The audit trail's data-access events: each FHIR interaction is an AuditEvent of its IHE BALP profile, with the
// Patient it concerns, the client, the user, the network address and the request id; denials are authorization
// events; the trail is searchable by patient/agent/entity/type/subtype/date/outcome; a patient user sees who
// read their record, and nothing else.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { postForm } from '../helpers/oauth.ts';
import { assertOutcome } from '../helpers/outcome.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { put, seedClinicalData } from '../smart/fixtures.ts';

const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition';
const APP = { id: 'app', secret: 'app-secret-1234567890' };
const NURSE = { id: 'nurse', email: 'nurse@example.com', password: 'nurse password 1' };
const ADA = { id: 'ada', email: 'ada@example.com', password: 'patient password 1' };

type Event = Record<string, any>;

for (const engine of engines()) {
  describe(`audit events (${engine})`, () => {
    let server: TestServer;

    /** The events matching `query`, once everything recorded so far is written. */
    async function events(query: string): Promise<Event[]> {
      await server.app.audit.flush();
      const response = await server.request('GET', `/AuditEvent?${query}&_count=1000`);
      assert.equal(response.status, 200, response.text);
      return (response.body.entry ?? []).map((entry: { resource: Event }) => entry.resource);
    }

    const profileOf = (event: Event) => event.meta?.profile?.[0];
    const entityRefs = (event: Event) => (event.entity ?? []).map((entity: Event) => entity.what?.reference).filter(Boolean);
    const agentRefs = (event: Event) => event.agent.map((agent: Event) => agent.who?.reference).filter(Boolean);
    const requestIdOf = (event: Event) => event.entity.find((entity: Event) => entity.type?.code === 'XrequestId')?.what.identifier.value;

    async function tokenFor(user: { email: string; password: string }): Promise<string> {
      const response = await postForm(server, '/auth/token', { grant_type: 'password', username: user.email, password: user.password }, APP);
      assert.equal(response.status, 200, response.text);
      return response.body.access_token;
    }

    const asUser = (token: string, method: string, path: string) => server.request(method, path, { auth: null, headers: { authorization: `Bearer ${token}` } });

    before(async () => {
      server = await startTestServer(engine);
      await seedClinicalData(server);
      await put(server, { resourceType: 'Client', id: APP.id, secret: APP.secret, grant_types: ['password'] } as never);
      await put(server, { resourceType: 'User', ...NURSE } as never);
      await put(server, { resourceType: 'User', ...ADA, fhirUser: { reference: 'Patient/pat-a' } } as never);
      await put(server, { resourceType: 'AccessPolicy', id: 'nurse-reads', engine: 'matcho', matcho: { user: { id: NURSE.id }, 'request-method': 'get' } } as never);
      // "Who saw my data": a patient user may search the events about their own record, and only those.
      await put(server, {
        resourceType: 'AccessPolicy',
        id: 'patient-reads-own-audit-trail',
        engine: 'matcho',
        matcho: { 'request-method': 'get', uri: '/AuditEvent', params: { patient: '.user.fhirUser.reference' } },
      } as never);
    });
    after(() => server?.close());

    test('a read of a patient\'s resource is a BALP PatientRead with the patient, client, user, address and request id', async () => {
      const token = await tokenFor(NURSE);
      const read = await asUser(token, 'GET', '/Observation/obs-a-lab');
      assert.equal(read.status, 200);
      const requestId = read.headers.get('x-request-id');
      const [event] = (await events('patient=Patient/pat-a&subtype=read&agent=User/nurse')).filter((item) => requestIdOf(item) === requestId);
      assert.ok(event, 'the read is audited');
      assert.equal(profileOf(event), `${BALP}/IHE.BasicAudit.PatientRead`);
      assert.equal(event.type.code, 'rest');
      assert.equal(event.subtype[0].code, 'read');
      assert.equal(event.action, 'R');
      assert.equal(event.outcome, '0');
      assert.ok(entityRefs(event).includes('Observation/obs-a-lab/_history/1'));
      assert.ok(entityRefs(event).includes('Patient/pat-a'));
      assert.deepEqual(agentRefs(event).sort(), ['Client/app', 'User/nurse']);
      const client = event.agent.find((agent: Event) => agent.who?.reference === 'Client/app');
      assert.equal(client.network.address, '127.0.0.1');
      assert.deepEqual(client.policy, ['policy nurse-reads']);
      assert.doesNotMatch(JSON.stringify(event), /password|secret|Bearer/i, 'no credential in an event');
    });

    test('a search is a PatientQuery event per patient in its results, carrying its query', async () => {
      const token = await tokenFor(NURSE);
      assert.equal((await asUser(token, 'GET', '/Observation?category=laboratory')).status, 200);
      const found = (await events('subtype=search-type&agent=User/nurse')).filter((event) =>
        event.entity.some((entity: Event) => entity.description === 'Observation?category=laboratory'),
      );
      assert.deepEqual(found.map((event) => entityRefs(event)).sort(), [['Patient/pat-a'], ['Patient/pat-b']]);
      const [event] = found;
      assert.equal(profileOf(event), `${BALP}/IHE.BasicAudit.PatientQuery`);
      assert.equal(event.action, 'E');
      const query = event.entity.find((entity: Event) => entity.role?.code === '24');
      assert.equal(Buffer.from(query.query, 'base64').toString(), 'Observation?category=laboratory');
    });

    test('create, update, patch and delete are PatientCreate/Update/Delete events, with no read event besides', async () => {
      const observation = { resourceType: 'Observation', id: 'obs-audit', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/pat-b' } };
      assert.equal((await server.request('PUT', '/Observation/obs-audit', { body: observation })).status, 201);
      assert.equal((await server.request('PUT', '/Observation/obs-audit', { body: { ...observation, status: 'amended' } })).status, 200);
      assert.equal((await server.request('DELETE', '/Observation/obs-audit')).status, 200);
      const trail = await events('entity=Observation/obs-audit/_history/1,Observation/obs-audit/_history/2,Observation/obs-audit/_history/3');
      const byAction = trail.map((event) => [event.subtype[0].code, event.action, profileOf(event)?.replace(`${BALP}/`, '')]).sort();
      assert.deepEqual(byAction, [
        ['create', 'C', 'IHE.BasicAudit.PatientCreate'],
        ['delete', 'D', 'IHE.BasicAudit.PatientDelete'],
        ['update', 'U', 'IHE.BasicAudit.PatientUpdate'],
      ]);
      assert.ok(trail.every((event) => agentRefs(event).includes('Client/root') && entityRefs(event).includes('Patient/pat-b')));
      const reads = await events('entity=Observation/obs-audit/_history/1,Observation/obs-audit/_history/2&subtype=read');
      assert.deepEqual(reads, [], 'the read each write makes first is not an event of its own');
    });

    test('a denial is an authorization event (BALP AuthZconsent) with the reason, and the log line carries it', async () => {
      const token = await tokenFor(NURSE);
      const denied = await asUser(token, 'DELETE', '/Observation/obs-a-vital');
      assertOutcome(denied, 403, /not allowed/);
      const requestId = denied.headers.get('x-request-id');
      const [event] = (await events('outcome=4&agent=User/nurse')).filter((item) => requestIdOf(item) === requestId);
      assert.ok(event, 'the denial is audited');
      assert.equal(profileOf(event), `${BALP}/IHE.BasicAudit.AuthZconsent`);
      assert.equal(event.type.code, '110113');
      assert.match(event.outcomeDesc, /^403: User "nurse" is not allowed to DELETE \/Observation\/obs-a-vital/);
      assert.ok(entityRefs(event).includes('Observation/obs-a-vital'));
    });

    test('an anonymous request refused with 401 is audited with its address', async () => {
      const denied = await server.request('GET', '/Patient/pat-a', { auth: null });
      assert.equal(denied.status, 401);
      const requestId = denied.headers.get('x-request-id');
      const [event] = (await events('outcome=4&type=110113')).filter((item) => requestIdOf(item) === requestId);
      assert.ok(event);
      assert.equal(event.agent[0].who.display, 'anonymous');
      assert.equal(event.agent[0].network.address, '127.0.0.1');
    });

    test('a token refused by authentication (401 before any policy) is a denial too', async () => {
      const denied = await server.request('GET', '/Patient/pat-a', { auth: null, headers: { authorization: 'Bearer not-a-token' } });
      assert.equal(denied.status, 401);
      const requestId = denied.headers.get('x-request-id');
      const [event] = (await events('outcome=4&type=110113')).filter((item) => requestIdOf(item) === requestId);
      assert.ok(event, 'the refusal is audited');
      assert.match(event.outcomeDesc, /^401: /);
      assert.ok(!JSON.stringify(event).includes('not-a-token'));
    });

    test('the trail is searchable by date and type', async () => {
      const today = new Date().toISOString().slice(0, 10);
      assert.ok((await events(`date=ge${today}&type=rest`)).length > 0);
      assert.deepEqual(await events('date=lt2000-01-01'), []);
    });

    test('a request\'s events are found by its request id (entity:identifier), for log correlation', async () => {
      const read = await server.request('GET', '/Patient/pat-a');
      assert.equal(read.status, 200);
      const requestId = read.headers.get('x-request-id')!;
      const found = await events(`entity:identifier=${encodeURIComponent(requestId)}`);
      assert.deepEqual(found.map(requestIdOf), [requestId]);
      assert.deepEqual(await events('entity:identifier=no-such-request'), []);
    });

    // FHIR R4 §3.1.1.2 (search, handling of unknown parameters): a parameter the trail is not indexed for is
    // refused, or ignored and reported under `Prefer: handling=lenient`; never a search that silently finds nothing.
    const UNINDEXED = ['_profile', '_tag', '_security', '_source', 'type:text', 'subtype:text', 'patient:identifier', 'agent:identifier'];

    test('a parameter the trail is not indexed for is refused as unsupported', async () => {
      for (const name of UNINDEXED) {
        const response = await server.request('GET', `/AuditEvent?${name}=x`);
        assertOutcome(response, 400, new RegExp(`Unsupported search parameter "${name}" for AuditEvent`));
        assert.equal(response.body.issue[0].code, 'not-supported');
      }
      assertOutcome(await server.request('GET', '/Patient?_has:AuditEvent:entity:type:text=x'), 400, /Unsupported search parameter "type:text" for AuditEvent/);
    });

    test('under Prefer: handling=lenient it is ignored, and the answer says so', async () => {
      await server.app.audit.flush();
      const strict = await server.request('GET', '/AuditEvent?action=R&_total=accurate&_count=0');
      for (const name of UNINDEXED) {
        const response = await server.request('GET', `/AuditEvent?action=R&${name}=x&_total=accurate&_count=0`, { headers: { prefer: 'handling=lenient' } });
        assert.equal(response.status, 200, response.text);
        assert.equal(response.body.total, strict.body.total, `${name} is ignored, not matched against`);
        const outcome = response.body.entry.find((entry: Event) => entry.search.mode === 'outcome');
        assert.match(outcome.resource.issue[0].diagnostics, new RegExp(`"${name}" is not supported for AuditEvent and was ignored`));
      }
    });

    test('the CapabilityStatement lists for AuditEvent the parameters it is searched by, and no other', async () => {
      const metadata = await server.request('GET', '/metadata');
      const auditEvent = metadata.body.rest[0].resource.find((resource: Event) => resource.type === 'AuditEvent');
      assert.deepEqual(
        auditEvent.searchParam.map((parameter: Event) => parameter.name).sort(),
        ['_id', '_lastUpdated', 'action', 'agent', 'date', 'entity', 'outcome', 'patient', 'subtype', 'type'],
      );
    });

    test('a patient sees who read their record, and nothing else', async () => {
      const nurse = await tokenFor(NURSE);
      assert.equal((await asUser(nurse, 'GET', '/Observation/obs-a-vital')).status, 200);
      assert.equal((await asUser(nurse, 'GET', '/Observation/obs-b-vital')).status, 200);
      await server.app.audit.flush();
      const ada = await tokenFor(ADA);
      const own = await asUser(ada, 'GET', '/AuditEvent?patient=Patient/pat-a&_count=1000');
      assert.equal(own.status, 200, own.text);
      const seen: Event[] = own.body.entry.map((entry: { resource: Event }) => entry.resource);
      assert.ok(seen.some((event) => agentRefs(event).includes('User/nurse') && entityRefs(event).includes('Observation/obs-a-vital/_history/1')));
      assert.ok(seen.every((event) => entityRefs(event).includes('Patient/pat-a') || agentRefs(event).includes('Patient/pat-a')));
      assert.ok(!seen.some((event) => JSON.stringify(event).includes('pat-b')), 'nothing about another patient');
      assertOutcome(await asUser(ada, 'GET', '/AuditEvent?patient=Patient/pat-b'), 403, /not allowed/);
      assertOutcome(await asUser(ada, 'GET', '/AuditEvent'), 403, /not allowed/);
      assertOutcome(await asUser(ada, 'GET', `/AuditEvent/${seen[0].id}`), 403, /not allowed/);
    });
  });
}
