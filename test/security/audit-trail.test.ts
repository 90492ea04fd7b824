// Attacks on the audit trail. HIPAA §164.312(b) and OWASP ASVS 5.0 V16.4.2 ("logs are protected from
// unauthorized access and cannot be modified"), V16.4.3 (logs sent to a separate system), V16.2.5 (no
// credentials in logs): nobody, root included, creates, changes or deletes an AuditEvent through the API; the
// hash covers the whole content, whatever the key order a store gives back; no secret reaches an event.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { canonicalJson, linkHash } from '../../src/audit/chain.ts';
import { postForm } from '../helpers/oauth.ts';
import { assertOutcome } from '../helpers/outcome.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const APP = { id: 'app', secret: 'app-secret-do-not-log-1' };
const ALICE = { id: 'alice', email: 'alice@example.com', password: 'alice password never logged' };

for (const engine of engines()) {
  describe(`the audit trail cannot be altered through the API (${engine})`, () => {
    let server: TestServer;
    let eventId: string;
    before(async () => {
      server = await startTestServer(engine);
      await server.request('GET', '/Patient');
      await server.app.audit.flush();
      const found = await server.request('GET', '/AuditEvent?_count=1');
      eventId = found.body.entry[0].resource.id;
      await server.request('PUT', '/Client/app', { body: { resourceType: 'Client', secret: APP.secret, grant_types: ['password'] } });
      await server.request('PUT', '/User/alice', { body: { resourceType: 'User', ...ALICE } });
      // Alice may do anything a policy can grant: still no change to the trail.
      await server.request('PUT', '/AccessPolicy/alice-all', { body: { resourceType: 'AccessPolicy', engine: 'allow', link: [{ resourceType: 'User', id: 'alice' }] } });
    });
    after(() => server?.close());

    const event = () => ({ resourceType: 'AuditEvent', id: eventId, type: { code: 'rest' }, recorded: new Date().toISOString(), agent: [], source: { observer: {} } });

    test('root cannot create, replace, patch or delete an AuditEvent (405 OperationOutcome)', async () => {
      assertOutcome(await server.request('POST', '/AuditEvent', { body: { ...event(), id: undefined } }), 405, /cannot be created, changed or deleted/);
      assertOutcome(await server.request('PUT', `/AuditEvent/${eventId}`, { body: event() }), 405, /cannot be created, changed or deleted/);
      assertOutcome(await server.request('PUT', '/AuditEvent/forged', { body: { ...event(), id: 'forged' } }), 405, /cannot be created/);
      assertOutcome(
        await server.request('PATCH', `/AuditEvent/${eventId}`, { raw: JSON.stringify([{ op: 'replace', path: '/outcome', value: '0' }]), contentType: 'application/json-patch+json' }),
        405,
        /cannot be created, changed or deleted/,
      );
      assertOutcome(await server.request('DELETE', `/AuditEvent/${eventId}`), 405, /cannot be created, changed or deleted/);
      assertOutcome(await server.request('DELETE', '/AuditEvent/never-was'), 405, /cannot be created, changed or deleted/);
      const kept = await server.request('GET', `/AuditEvent/${eventId}`);
      assert.equal(kept.status, 200);
      assert.equal(kept.body.meta.versionId, '1', 'the event was never changed');
    });

    test('a user whom a policy allows everything cannot either', async () => {
      const token = await postForm(server, '/auth/token', { grant_type: 'password', username: ALICE.email, password: ALICE.password }, APP);
      const headers = { authorization: `Bearer ${token.body.access_token}` };
      assertOutcome(await server.request('DELETE', `/AuditEvent/${eventId}`, { auth: null, headers }), 405, /cannot be/);
      assertOutcome(await server.request('PUT', `/AuditEvent/${eventId}`, { auth: null, headers, body: event() }), 405, /cannot be/);
    });

    test('no secret, password or token reaches an event', async () => {
      const token = await postForm(server, '/auth/token', { grant_type: 'password', username: ALICE.email, password: ALICE.password }, APP);
      await server.request('GET', '/Patient', { auth: null, headers: { authorization: `Bearer ${token.body.access_token}` } });
      await postForm(server, '/auth/token', { grant_type: 'password', username: ALICE.email, password: 'wrong password guess' }, APP);
      await server.app.audit.flush();
      const all = await server.request('GET', '/AuditEvent?_count=1000');
      for (const secret of [APP.secret, ALICE.password, 'wrong password guess', token.body.access_token, 'root-secret-for-tests']) {
        assert.ok(!all.text.includes(secret), `an event holds ${secret.slice(0, 12)}...`);
      }
    });
  });
}

describe('the chain hash', () => {
  const json = fc.jsonValue({ maxDepth: 3 });
  const event = fc.record({ resourceType: fc.constant('AuditEvent'), id: fc.uuid(), recorded: fc.string(), body: json });

  test('does not depend on the key order a store gives back', () => {
    fc.assert(
      fc.property(event, (value) => {
        const reversed = JSON.parse(canonicalJson(value), (_key, item) =>
          item && typeof item === 'object' && !Array.isArray(item) ? Object.fromEntries(Object.entries(item).reverse()) : item,
        );
        return linkHash('0', 1, value) === linkHash('0', 1, reversed);
      }),
      { numRuns: 100 },
    );
  });

  test('changes with any change to the content, the number or the previous link', () => {
    fc.assert(
      fc.property(event, json, (value, other) => {
        const changed = { ...value, body: other };
        fc.pre(canonicalJson(changed) !== canonicalJson(value));
        const hash = linkHash('a', 5, value);
        return hash !== linkHash('a', 5, changed) && hash !== linkHash('a', 6, value) && hash !== linkHash('b', 5, value);
      }),
      { numRuns: 100 },
    );
  });
});
