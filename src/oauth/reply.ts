// How every /auth answer leaves: JSON, or YAML when asked, and never cached.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { stringify as stringifyYaml } from 'yaml';
import { wantsYaml } from '../http/reply-format.ts';

/** RFC 6749 §5.1: token responses, and errors, are never cached. */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/**
 * A token endpoint answer, JSON (RFC 6749 §5.1) unless the caller asked for YAML, as the rest of the API and
 * Aidbox's token endpoint honour `Accept: text/yaml`. Never cached.
 */
export function sendTokenBody(request: FastifyRequest, reply: FastifyReply, status: number, body: object, headers: Record<string, string> = {}) {
  reply.code(status).headers({ ...NO_STORE, ...headers });
  if (wantsYaml(request)) return reply.type('text/yaml; charset=utf-8').send(stringifyYaml(body));
  return reply.send(body);
}
