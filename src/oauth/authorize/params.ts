// The parameters of an authorization request: the query of a GET, the form body of a POST (RFC 6749 §3.1).
import type { FastifyRequest } from 'fastify';

export interface AuthorizeParams {
  /** Each parameter's value; a parameter sent more than once is listed in `repeated` and kept only once. */
  values: Record<string, string>;
  /** RFC 6749 §3.1: parameters MUST NOT be included more than once. (A form body keeps only its first value.) */
  repeated: string[];
}

export function readParams(request: FastifyRequest): AuthorizeParams {
  const source = request.method === 'POST' ? request.body : request.query;
  const values: Record<string, string> = {};
  const repeated: string[] = [];
  if (source && typeof source === 'object') {
    for (const [name, value] of Object.entries(source as Record<string, unknown>)) {
      if (Array.isArray(value)) {
        repeated.push(name);
        values[name] = String(value[0]);
      } else if (typeof value === 'string') {
        values[name] = value;
      }
    }
  }
  return { values, repeated };
}
