// The parameters of a request to an /auth endpoint, from a form, JSON or YAML body (Aidbox takes all three).
import type { FastifyRequest } from 'fastify';
import { defineField } from '../http/body-parsers.ts';
import { invalidRequest } from './errors.ts';

export type Params = Readonly<Record<string, string | undefined>>;

/**
 * Every parameter as a string. RFC 6749 §3.1: a parameter sent without a value is treated as omitted; a value
 * that is an object or a list (possible in JSON and YAML) is refused rather than guessed at.
 */
export function readParams(body: unknown): Params {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw invalidRequest('The request body must be a form (application/x-www-form-urlencoded), a JSON object or a YAML mapping');
  }
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    if (value === null || value === '') continue;
    if (typeof value === 'string') defineField(params, name, value);
    // YAML reads `client_id: 42` as a number; the parameter is still the string the user wrote.
    else if (typeof value === 'number' || typeof value === 'boolean') defineField(params, name, String(value));
    else throw invalidRequest(`Parameter "${name.slice(0, 64)}" must be a string`);
  }
  return params;
}

/** RFC 6749 §3.2: parameters are never repeated. Form bodies are parsed with this in the /auth scope. */
export function parseStrictForm(text: string): Record<string, string> {
  const form: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    if (Object.hasOwn(form, key)) throw invalidRequest(`Parameter "${key.slice(0, 64)}" is repeated`);
    defineField(form, key, value);
  }
  return form;
}

export function required(params: Params, name: string): string {
  const value = params[name];
  if (value === undefined) throw invalidRequest(`Missing required parameter "${name}"`);
  return value;
}

/**
 * RFC 6749 §3.2 and §2.3.1 (and RFC 7662 §2.1, RFC 7009 §2.1): the token, introspection and revocation
 * endpoints take their parameters in the POST body; credentials or codes in the URI end up in logs and
 * proxies, so any parameter there is refused rather than ignored.
 */
export async function refuseQueryParameters(request: FastifyRequest): Promise<void> {
  const question = request.url.indexOf('?');
  if (question < 0 || question === request.url.length - 1) return;
  const names = [...new Set(new URLSearchParams(request.url.slice(question + 1)).keys())];
  throw invalidRequest(`Parameters belong in the request body, not in the URL: remove ${names.map((name) => `"${name.slice(0, 64)}"`).slice(0, 5).join(', ') || 'the query string'}`);
}
