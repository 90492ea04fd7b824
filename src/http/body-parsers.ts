// Request bodies: JSON (any +json type), YAML and forms, each bounded in size (by Fastify) and in depth.
import type { FastifyInstance } from 'fastify';
import { Parser, parse as parseYaml, type CST } from 'yaml';
import { badRequest } from '../fhir/outcome.ts';

/** U+0000, or half of a surrogate pair without the other half: PostgreSQL's jsonb refuses both. */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const unstorable = () =>
  badRequest('Request body has a U+0000 (NUL) character or an unpaired surrogate (\\uD800-\\uDFFF) in a string or key, which cannot be stored', 'value');

/**
 * Throws if objects and arrays nest deeper than `limit`, or if a string holds what PostgreSQL's jsonb
 * refuses (which would otherwise surface as a 500 at write time). Iterative, so hostile input cannot
 * overflow the stack.
 */
export function assertDepth(value: unknown, limit: number): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node === 'string' && UNSTORABLE.test(node)) throw unstorable();
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) throw badRequest(`Request body nests deeper than ${limit} levels`, 'structure');
    for (const [key, child] of Object.entries(node)) {
      if (UNSTORABLE.test(key)) throw unstorable();
      stack.push([child, depth + 1]);
    }
  }
}

export function parseJsonBody(text: string, maxDepth: number): unknown {
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw badRequest(`Malformed JSON: ${(error as Error).message}`, 'structure');
  }
  assertDepth(value, maxDepth);
  return value;
}

/**
 * How deeply a YAML text's collections nest, read from its syntax tree, which the yaml library builds without
 * recursion. It then turns that tree into values recursively, and a text nested deeply enough overflows the stack
 * in there; V8 may then have to compile a regular expression at the stack's edge (one the library tests scalars
 * with, whose code a garbage collection dropped), which aborts the whole process instead of throwing ("FATAL
 * ERROR: RegExpCompiler Allocation failed", seen once in CI on `- - - … x`). So a text too deep is refused first.
 */
function yamlDepth(text: string): number {
  let deepest = 0;
  const pending: [CST.Token | null | undefined, number][] = [];
  for (const token of new Parser().parse(text)) pending.push([token, 0]);
  while (pending.length > 0) {
    const [token, depth] = pending.pop()!;
    if (token?.type === 'document') pending.push([token.value, depth]);
    if (token?.type !== 'block-map' && token?.type !== 'block-seq' && token?.type !== 'flow-collection') continue;
    deepest = Math.max(deepest, depth + 1);
    for (const item of token.items) pending.push([item.key, depth + 1], [item.value, depth + 1]);
  }
  return deepest;
}

/** What is left: aliases can nest a document deeper than its text (up to maxAliasCount of them). */
const isStackOverflow = (error: unknown) =>
  error instanceof RangeError || /maximum call stack size exceeded/i.test(String((error as Error)?.message));

export function parseYamlBody(text: string, maxDepth: number): unknown {
  if (text.trim() === '') return undefined;
  if (yamlDepth(text) > maxDepth) throw badRequest(`Request body nests deeper than ${maxDepth} levels`, 'structure');
  let value: unknown;
  try {
    // The core schema gives plain JSON values; anchors and aliases are bounded by the library (maxAliasCount).
    // logLevel 'error': the library's warnings (unknown tags, directives) would write attacker text to stderr.
    value = parseYaml(text, { schema: 'core', uniqueKeys: true, prettyErrors: false, logLevel: 'error' });
  } catch (error) {
    if (isStackOverflow(error)) throw badRequest(`Request body nests deeper than ${maxDepth} levels`, 'structure');
    throw badRequest(`Malformed YAML: ${(error as Error).message.split('\n')[0]}`, 'structure');
  }
  assertDepth(value, maxDepth);
  return value;
}

/**
 * Sets a form field as an own property, whatever its name: `form[key] = value` would drop `__proto__`, and `in`
 * would see `constructor` or `toString` as already there.
 */
export function defineField(form: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(form, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Form bodies become a plain object; a repeated field keeps its first value. */
export function parseFormBody(text: string): Record<string, string> {
  const form: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(text)) if (!Object.hasOwn(form, key)) defineField(form, key, value);
  return form;
}

export const YAML_TYPES = ['text/yaml', 'application/yaml', 'application/x-yaml', 'text/x-yaml'];

export function registerBodyParsers(app: FastifyInstance, maxDepth: number): void {
  app.removeAllContentTypeParsers();
  const asText = { parseAs: 'string' as const };
  // Fastify tests a RegExp against the whole header, parameters included ("application/fhir+json; charset=utf-8").
  app.addContentTypeParser(/^application\/([a-z0-9.+-]+\+)?json(\s*;.*)?$/, asText, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string, maxDepth));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addContentTypeParser(YAML_TYPES, asText, (_request, body, done) => {
    try {
      done(null, parseYamlBody(body as string, maxDepth));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', asText, (_request, body, done) => {
    done(null, parseFormBody(body as string));
  });
}
