// Response bodies in the format the caller asked for: YAML when Accept names it, else JSON.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { stringify as stringifyYaml } from 'yaml';
import { YAML_TYPES } from './body-parsers.ts';

export function wantsYaml(request: FastifyRequest): boolean {
  const format = (request.query as Record<string, unknown> | undefined)?._format;
  if (typeof format === 'string') return /yaml/i.test(format);
  const accept = request.headers.accept ?? '';
  return YAML_TYPES.some((type) => accept.includes(type));
}

/**
 * Sends a FHIR body: `application/fhir+json` unless the caller asked for plain JSON or for YAML. `json` writes the
 * body's JSON when the caller has a cheaper way than JSON.stringify (a search Bundle splices stored JSON text).
 */
export function sendResource(request: FastifyRequest, reply: FastifyReply, status: number, body: unknown, json?: () => string) {
  reply.code(status);
  if (wantsYaml(request)) {
    return reply.type('text/yaml; charset=utf-8').send(stringifyYaml(body));
  }
  const accept = request.headers.accept ?? '';
  const type = accept.includes('application/json') && !accept.includes('fhir+json') ? 'application/json' : 'application/fhir+json';
  return reply.type(`${type}; charset=utf-8`).send(json ? json() : JSON.stringify(body));
}
