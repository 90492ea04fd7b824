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
