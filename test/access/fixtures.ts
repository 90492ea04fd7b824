// Shared steps of the access tests: clients to act as, and policies written by the root client.
import assert from 'node:assert/strict';
import type { TestServer } from '../helpers/server.ts';

export async function createClient(server: TestServer, id: string, secret = `${id}-secret`) {
  const created = await server.request('PUT', `/Client/${id}`, { body: { resourceType: 'Client', secret, grant_types: ['basic'] } });
  assert.ok(created.status < 300, `creating Client/${id}: ${created.text}`);
  return { id, secret };
}

export async function putPolicy(server: TestServer, policy: Record<string, unknown> & { id: string }) {
  const written = await server.request('PUT', `/AccessPolicy/${policy.id}`, { body: { resourceType: 'AccessPolicy', ...policy } });
  assert.ok(written.status < 300, `writing AccessPolicy/${policy.id}: ${written.text}`);
  return written;
}

export const linkTo = (resourceType: string, id: string) => [{ resourceType, id }];

/** Stores a policy the way a hand-made database change would, skipping write-time validation. */
export async function storeUnchecked(server: TestServer, policy: Record<string, unknown> & { id: string }) {
  const resource = { resourceType: 'AccessPolicy', ...policy, meta: { versionId: '1', lastUpdated: new Date().toISOString() } };
  await server.app.ctx.db.query(
    `insert into resource (type, id, version_id, last_updated, deleted, resource) values ('AccessPolicy', $1, 1, now(), false, $2::text::jsonb)`,
    [policy.id, JSON.stringify(resource)],
  );
  await server.app.ctx.policies.refresh();
}
