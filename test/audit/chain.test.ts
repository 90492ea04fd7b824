// The audit trail's hash chain: one order across writers sharing a database, a verifier that names the first
// link broken by an edit or a deletion, a retention sweep the verifier tells from a deletion, and the queue's
// behaviour when the store cannot take events (bounded, retried; mandatory auditing refuses the request).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { verifyChain } from '../../src/audit/chain.ts';
import { restEvent } from '../../src/audit/event.ts';
import { exportBatch } from '../../src/audit/export.ts';
import { AuditTrail } from '../../src/audit/trail.ts';
import { loadConfig, type AuditConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/store/open-database.ts';
import { sweep } from '../../src/store/sweeper.ts';
import type { Database, QueryOptions, Row } from '../../src/store/database.ts';
import { engines, openTestStore, startTestServer, type Engine } from '../helpers/server.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const AUDIT: AuditConfig = { ...loadConfig({}).audit, batchSize: 7 };
const SWEEP = { ...loadConfig({}), sweep: { intervalSeconds: 0, sessionRetentionSeconds: 0 } };

const readEvent = (n: number) =>
  restEvent({ interaction: 'read', type: 'Observation', id: `obs-${n}`, patients: ['pat-a'], outcome: '0' }, { clientId: 'app', address: '127.0.0.1', requestId: `req-${n}` });

async function recordMany(trail: AuditTrail, count: number, from = 0): Promise<void> {
  await Promise.all(Array.from({ length: count }, (_, i) => trail.record([readEvent(from + i)])));
  await trail.flush();
}

const noWarnings = (message: string) => assert.fail(message);

for (const engine of engines()) {
  describe(`audit hash chain (${engine})`, () => {
    let store: { db: Database; url?: string; close: () => Promise<void> };
    before(async () => {
      store = await openTestStore(engine);
    });
    after(() => store?.close());

    test('links written in batches verify, and an edited event is named as the first break', async () => {
      await recordMany(new AuditTrail(store.db, AUDIT, noWarnings), 30);
      const intact = await verifyChain(store.db);
      assert.equal(intact.firstBreak, undefined);
      assert.equal(intact.checked, 30);

      const [victim] = await store.db.query<{ id: string }>('select id from audit_chain where seq = 12');
      await store.db.query(
        `update resource set resource = jsonb_set(resource, '{outcome}', '"4"') where type = 'AuditEvent' and id = $1`,
        [victim.id],
      );
      const broken = await verifyChain(store.db);
      assert.deepEqual(broken.firstBreak, { seq: '12', id: victim.id, reason: 'its AuditEvent was changed after it was written' });
      assert.equal(broken.checked, 11);
      await store.db.query(`update resource set resource = jsonb_set(resource, '{outcome}', '"0"') where type = 'AuditEvent' and id = $1`, [victim.id]);
      assert.equal((await verifyChain(store.db)).firstBreak, undefined, 'the original content verifies again');
    });

    test('a deleted event, or a rewritten link, breaks the chain there', async () => {
      const [row] = await store.db.query<{ id: string; hash: string }>('select id, hash from audit_chain where seq = 20');
      await store.db.query(`delete from resource where type = 'AuditEvent' and id = $1`, [row.id]);
      assert.deepEqual((await verifyChain(store.db)).firstBreak, { seq: '20', id: row.id, reason: 'its AuditEvent was deleted' });
      await store.db.query('delete from audit_chain where seq = 20');
      assert.equal((await verifyChain(store.db)).firstBreak?.seq, '20');
      assert.match((await verifyChain(store.db)).firstBreak!.reason, /link 20 is missing/);
    });

    test('the retention sweep removes the oldest events and the rest still verifies from where it stopped', async () => {
      const fresh = await openTestStore(engine);
      try {
        await recordMany(new AuditTrail(fresh.db, AUDIT, noWarnings), 20);
        await fresh.db.query(
          `update resource set last_updated = now() - interval '40 days'
           where type = 'AuditEvent' and id in (select id from audit_chain where seq <= 8)`,
        );
        const swept = await sweep(fresh.db, { ...SWEEP, audit: { ...AUDIT, retentionDays: 30 } });
        assert.equal(swept.AuditEvent, 8);
        const report = await verifyChain(fresh.db);
        assert.equal(report.firstBreak, undefined, JSON.stringify(report));
        assert.deepEqual([report.checked, report.from, report.to], [12, '9', '20']);
        const [{ n }] = await fresh.db.query<{ n: number }>(`select count(*)::int as n from search_date where type = 'AuditEvent'`);
        assert.equal(n, 12, 'the swept events left no index rows behind (one date row each)');
        // A deletion of the oldest kept event is not a sweep: the verifier names it.
        await fresh.db.query('delete from audit_chain where seq = 9');
        assert.match((await verifyChain(fresh.db)).firstBreak!.reason, /link 9 is missing/);
      } finally {
        await fresh.close();
      }
    });

    test('when the store cannot take events they wait in the queue and are written once it can', async () => {
      const fresh = await openTestStore(engine);
      const warnings: string[] = [];
      const trail = new AuditTrail(fresh.db, AUDIT, (message) => warnings.push(message));
      try {
        await fresh.db.exec('alter table audit_chain rename to audit_chain_away');
        await trail.record([readEvent(1), readEvent(2)]);
        await trail.flush();
        assert.equal(trail.queued, 2);
        assert.match(warnings[0], /writing AuditEvents failed, 2 waiting/);
        await assert.rejects(trail.record([readEvent(3)], true), /unavailable/, 'a mandatory wait fails at once while the store is down');
        await fresh.db.exec('alter table audit_chain_away rename to audit_chain');
        while (trail.queued > 0) await new Promise((resolve) => setTimeout(resolve, 50));
        await trail.flush();
        assert.equal((await verifyChain(fresh.db)).checked, 3);
      } finally {
        await trail.close();
        await fresh.close();
      }
    });

    test('an event recorded as the writer finishes a batch is written too (a mandatory request once waited for ever)', { timeout: 30_000 }, async () => {
      const fresh = await openTestStore(engine);
      const trail = new AuditTrail(fresh.db, AUDIT, noWarnings);
      try {
        // The second record runs as the first one's waiter is resolved, before the writer has marked itself idle.
        await trail.record([readEvent(1)], true);
        await trail.record([readEvent(2)], true);
        assert.equal((await verifyChain(fresh.db)).checked, 2);
      } finally {
        await trail.close();
        await fresh.close();
      }
    });

    /** The store, counting the batches written (each moves the chain's head once). */
    const countingBatches = (db: Database) => {
      const counter = { batches: 0, db: { ...db } };
      counter.db.query = <T extends Row>(text: string, params?: unknown[], options?: QueryOptions) => {
        if (text.includes('update audit_chain_head')) counter.batches++;
        return db.query<T>(text, params, options);
      };
      return counter;
    };
    const AN_HOUR = 3_600_000;

    test('an idle trail writes an event at once; events recorded soon after gather into the next batch', { timeout: 30_000 }, async () => {
      const fresh = await openTestStore(engine);
      const store = countingBatches(fresh.db);
      const trail = new AuditTrail(store.db, AUDIT, noWarnings, AN_HOUR);
      try {
        await trail.record([readEvent(1)], true);
        await trail.flush(); // the writer is idle again
        assert.equal(store.batches, 1);
        for (let i = 2; i <= 4; i++) void trail.record([readEvent(i)]);
        await trail.flush();
        assert.equal(store.batches, 2, 'the three later events were written in one batch');
        assert.equal((await verifyChain(fresh.db)).checked, 4);
      } finally {
        await trail.close();
        await fresh.close();
      }
    });

    test('with mandatory auditing nothing gathers: a waiting request\'s batch starts at once', { timeout: 30_000 }, async () => {
      const fresh = await openTestStore(engine);
      const store = countingBatches(fresh.db);
      const trail = new AuditTrail(store.db, { ...AUDIT, mandatory: true }, noWarnings, AN_HOUR);
      try {
        await trail.record([readEvent(1)], true);
        await trail.flush(); // the writer is idle again
        await Promise.all([2, 3, 4].map((i) => trail.record([readEvent(i)], true)));
        assert.equal(store.batches, 3, 'the first at once, the second as soon as the one before was written');
      } finally {
        await trail.close();
        await fresh.close();
      }
    });

    test('past the queue limit new events are dropped, logged once', async () => {
      const fresh = await openTestStore(engine);
      const warnings: string[] = [];
      const trail = new AuditTrail(fresh.db, { ...AUDIT, queueLimit: 3 }, (message) => warnings.push(message));
      try {
        await fresh.db.exec('alter table audit_chain rename to audit_chain_away');
        for (let i = 0; i < 6; i++) void trail.record([readEvent(i)]);
        assert.equal(trail.queued, 3);
        await assert.rejects(trail.record([readEvent(9)], true), /queue is full/);
        assert.equal(warnings.filter((line) => /queue full/.test(line)).length, 1);
      } finally {
        await fresh.db.exec('alter table audit_chain_away rename to audit_chain');
        await trail.close();
        await fresh.close();
      }
    });

    test('export sends the chain in order as collection Bundles, retrying a refused batch', async () => {
      const fresh = await openTestStore(engine);
      const received: { type: string; entry: { resource: { id: string } }[] }[] = [];
      let refuse = 1;
      const repository = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk) => (body += chunk));
        request.on('end', () => {
          if (refuse-- > 0) return response.writeHead(503).end();
          received.push(JSON.parse(body));
          response.writeHead(200, { 'content-type': 'application/fhir+json' }).end('{}');
        });
      });
      repository.listen(0, '127.0.0.1');
      await once(repository, 'listening');
      const exportUrl = `http://127.0.0.1:${(repository.address() as { port: number }).port}/fhir`;
      try {
        await recordMany(new AuditTrail(fresh.db, AUDIT, noWarnings), 5);
        const config = { ...AUDIT, exportUrl };
        await assert.rejects(exportBatch(fresh.db, config), /answered 503/);
        assert.equal(await exportBatch(fresh.db, config), 5);
        assert.equal(await exportBatch(fresh.db, config), 0, 'nothing is sent twice');
        const chainOrder = (await fresh.db.query<{ id: string }>('select id from audit_chain order by seq')).map((row) => row.id);
        assert.equal(received[0].type, 'collection');
        assert.deepEqual(received[0].entry.map((entry) => entry.resource.id), chainOrder);
      } finally {
        repository.close();
        await fresh.close();
      }
    });
  });
}

if (engines().includes('postgres')) {
  describe('audit hash chain across two server processes (postgres)', () => {
    test('writers on two connection pools interleave into one chain that verifies', async () => {
      const store = await openTestStore('postgres');
      const other = await openDatabase({ databaseUrl: store.url, dataDir: '' });
      try {
        const one = new AuditTrail(store.db, AUDIT, noWarnings);
        const two = new AuditTrail(other, AUDIT, noWarnings);
        await Promise.all([recordMany(one, 60, 0), recordMany(two, 60, 100)]);
        const report = await verifyChain(store.db);
        assert.equal(report.firstBreak, undefined, JSON.stringify(report));
        assert.equal(report.checked, 120);
      } finally {
        await other.close();
        await store.close();
      }
    });

    test('warden verify-audit reports a sound chain, and names the first edited event', async () => {
      const store = await openTestStore('postgres');
      const run = (args: string[]) =>
        promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: root, env: { PATH: process.env.PATH, DATABASE_URL: store.url } }).then(
          ({ stderr }) => ({ code: 0, stderr }),
          (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
        );
      try {
        await recordMany(new AuditTrail(store.db, AUDIT, noWarnings), 10);
        assert.deepEqual(await run(['verify-audit']), { code: 0, stderr: 'the audit chain holds: 10 AuditEvents checked (links 1 to 10)\n' });
        const [row] = await store.db.query<{ id: string }>('select id from audit_chain where seq = 4');
        await store.db.query(`update resource set resource = resource || '{"outcome":"8"}' where type = 'AuditEvent' and id = $1`, [row.id]);
        const broken = await run(['verify-audit']);
        assert.equal(broken.code, 2);
        assert.match(broken.stderr, new RegExp(`broken at link 4, AuditEvent/${row.id}: its AuditEvent was changed`));
      } finally {
        await store.close();
      }
    });
  });
}

for (const engine of engines() as Engine[]) {
  describe(`mandatory auditing (${engine})`, () => {
    test('a request whose events cannot be written fails with 503; without the setting it goes on', async () => {
      const mandatory = await startTestServer(engine, { audit: { ...AUDIT, mandatory: true } });
      try {
        assert.equal((await mandatory.request('GET', '/Patient?_count=1')).status, 200);
        await mandatory.app.ctx.db.exec('alter table audit_chain rename to audit_chain_away');
        const refused = await mandatory.request('GET', '/Patient?_count=1');
        assert.equal(refused.status, 503, refused.text);
        assert.equal(refused.body.resourceType, 'OperationOutcome');
        assert.match(refused.body.issue[0].diagnostics, /auditing is mandatory/);
        await mandatory.app.ctx.db.exec('alter table audit_chain_away rename to audit_chain');
      } finally {
        await mandatory.close();
      }
      const optional = await startTestServer(engine);
      try {
        await optional.app.ctx.db.exec('alter table audit_chain rename to audit_chain_away');
        assert.equal((await optional.request('GET', '/Patient?_count=1')).status, 200);
        await optional.app.ctx.db.exec('alter table audit_chain_away rename to audit_chain');
      } finally {
        await optional.close();
      }
    });
  });
}
