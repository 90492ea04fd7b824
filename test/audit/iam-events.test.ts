// Identity and access events: tokens issued per grant and refused, client-authentication failures, throttling,
// revocation, logins and logouts on Warden's pages. Each names who and what, never the secret presented.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CookieBrowser, field } from '../helpers/browser.ts';
import { postForm } from '../helpers/oauth.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const APP = { id: 'app', secret: 'app-secret-never-in-an-event' };
const ADA = { id: 'ada', email: 'ada@example.com', password: 'ada password never in an event' };
const ITI_71 = 'urn:ihe:event-type-code|ITI-71';
const WARDEN = 'https://warden.dev/fhir/CodeSystem/audit-event';

type Event = Record<string, any>;

for (const engine of engines()) {
  describe(`identity and access events (${engine})`, () => {
    let server: TestServer;

    async function events(query: string): Promise<Event[]> {
      await server.app.audit.flush();
      const response = await server.request('GET', `/AuditEvent?${query}&_count=1000&_sort=-_lastUpdated`);
      assert.equal(response.status, 200, response.text);
      return (response.body.entry ?? []).map((entry: { resource: Event }) => entry.resource);
    }
    const agentRefs = (event: Event) => event.agent.map((agent: Event) => agent.who?.reference).filter(Boolean);
    const entityNames = (event: Event): string[] => event.entity.flatMap((entity: Event) => [entity.name, entity.what?.reference]).filter(Boolean);

    before(async () => {
      server = await startTestServer(engine, { throttle: { identityLimit: 3, addressLimit: 1000, windowSeconds: 900, knownAddressSeconds: 0 } });
      await server.request('PUT', '/Client/app', {
        body: { resourceType: 'Client', secret: APP.secret, grant_types: ['password', 'client_credentials', 'refresh_token'], auth: { password: { refresh_token: true } } },
      });
      await server.request('PUT', '/User/ada', { body: { resourceType: 'User', ...ADA } });
    });
    after(() => server?.close());

    test('a token issued is an ITI-71 event naming the grant, client and user; a refused one names the name tried', async () => {
      const ok = await postForm(server, '/auth/token', { grant_type: 'password', username: ADA.email, password: ADA.password }, APP);
      assert.equal(ok.status, 200, ok.text);
      const refused = await postForm(server, '/auth/token', { grant_type: 'password', username: 'nobody@example.com', password: 'guess 1' }, APP);
      assert.equal(refused.status, 400);
      const found = await events(`type=${encodeURIComponent(ITI_71)}&subtype=${encodeURIComponent(`${WARDEN}|password`)}`);
      const success = found.find((event) => event.outcome === '0');
      const failure = found.find((event) => event.outcome === '4');
      assert.ok(success && failure, JSON.stringify(found));
      assert.ok(agentRefs(success).includes('Client/app'));
      assert.ok(entityNames(success).includes('User/ada'));
      assert.ok(entityNames(failure).includes('nobody@example.com'));
      assert.match(failure.outcomeDesc, /invalid_grant/);
      const text = JSON.stringify(found);
      for (const secret of [ADA.password, 'guess 1', APP.secret, ok.body.access_token, ok.body.refresh_token]) assert.ok(!text.includes(secret));
    });

    test('a refresh is a token event of its own grant', async () => {
      const first = await postForm(server, '/auth/token', { grant_type: 'password', username: ADA.email, password: ADA.password }, APP);
      assert.ok(first.body.refresh_token, first.text);
      const refreshed = await postForm(server, '/auth/token', { grant_type: 'refresh_token', refresh_token: first.body.refresh_token }, APP);
      assert.equal(refreshed.status, 200, refreshed.text);
      const found = await events(`subtype=${encodeURIComponent(`${WARDEN}|refresh_token`)}&outcome=0`);
      assert.equal(found.length, 1);
    });

    test('a client that fails to authenticate is a client-authentication event with the id it claimed', async () => {
      const refused = await postForm(server, '/auth/token', { grant_type: 'client_credentials' }, { id: 'app', secret: 'wrong secret value' });
      assert.equal(refused.status, 401);
      const [event] = await events(`subtype=${encodeURIComponent(`${WARDEN}|client-authentication`)}`);
      assert.ok(event);
      assert.equal(event.type.code, '110114');
      assert.equal(event.outcome, '4');
      assert.ok(entityNames(event).includes('Client/app'));
      assert.ok(!JSON.stringify(event).includes('wrong secret value'));
    });

    test('throttling is a security alert naming the identity', async () => {
      let status = 0;
      for (let i = 0; i < 6 && status !== 429; i++) {
        status = (await postForm(server, '/auth/token', { grant_type: 'password', username: 'mallory@example.com', password: `guess ${i}` }, APP)).status;
      }
      assert.equal(status, 429);
      const [event] = await events(`subtype=${encodeURIComponent(`${WARDEN}|throttled`)}`);
      assert.ok(event);
      assert.equal(event.type.code, '110113');
      assert.match(entityNames(event).join(' '), /mallory@example\.com/);
    });

    test('a revocation is an event naming the session, never the token', async () => {
      const issued = await postForm(server, '/auth/token', { grant_type: 'password', username: ADA.email, password: ADA.password }, APP);
      const revoked = await postForm(server, '/auth/revoke', { token: issued.body.refresh_token }, APP);
      assert.equal(revoked.status, 200, revoked.text);
      const [event] = await events(`subtype=${encodeURIComponent(`${WARDEN}|token-revoked`)}`);
      assert.ok(event);
      assert.ok(agentRefs(event).includes('Client/app'));
      assert.ok(!JSON.stringify(event).includes(issued.body.refresh_token));
    });

    test('a login on Warden\'s page, failed or not, and a logout are DICOM login and logout events', async () => {
      const browser = new CookieBrowser(server.url);
      const login = async (password: string) => {
        const page = await browser.get('/auth/login');
        return browser.post('/auth/login', { csrf_token: field(page.text, 'csrf_token'), return_to: '', username: ADA.email, password });
      };
      assert.equal((await login('not the password')).status, 401);
      assert.ok([200, 303].includes((await login(ADA.password)).status));
      const logoutPage = await browser.get('/auth/logout');
      assert.equal((await browser.post('/auth/logout', { csrf_token: field(logoutPage.text, 'csrf_token') })).status, 200);
      const logins = await events('subtype=110122');
      assert.deepEqual(logins.map((event) => event.outcome).sort(), ['0', '4']);
      assert.ok(logins.every((event) => entityNames(event).some((name: string) => name === ADA.email || name === 'User/ada')));
      const [logout] = await events('subtype=110123');
      assert.ok(logout);
      assert.ok(agentRefs(logout).includes('User/ada'));
      assert.ok(!JSON.stringify([...logins, logout]).includes('not the password'));
    });
  });
}
