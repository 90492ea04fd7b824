// The parameters of a request to an /auth endpoint, from a form, JSON or YAML body (Aidbox takes all three).
import type { FastifyRequest } from 'fastify';
import { defineField, parseJsonBody } from '../http/body-parsers.ts';
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

/**
 * The keys of the top-level object of a JSON text that JSON.parse accepted, in order, repeats included: JSON.parse
 * keeps the last of two equal keys, which would let a proxy and Warden read different values of one parameter.
 */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let atKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (depth === 1 && atKey) keys.push(JSON.parse(text.slice(i, end + 1)) as string);
      atKey = false;
      i = end;
    } else if (c === '{' || c === '[') {
      depth++;
      atKey = depth === 1 && c === '{';
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) atKey = true;
  }
  return keys;
}

/** RFC 6749 §3.2 for a JSON body (Aidbox takes JSON too): a parameter named twice is refused, as in a form. */
export function parseStrictJson(text: string, maxDepth: number): unknown {
  const value = parseJsonBody(text, maxDepth);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const seen = new Set<string>();
  for (const key of topLevelKeys(text)) {
    if (seen.has(key)) throw invalidRequest(`Parameter "${key.slice(0, 64)}" is repeated`);
    seen.add(key);
  }
  return value;
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
