// Checks an AccessPolicy as it is typed: JSON or YAML syntax with the line of the mistake, then the shape each
// engine needs. The server checks everything again at write time (schemas, regexes, SQL); this is for speed.
import { parseDocument } from 'yaml';

export type Format = 'json' | 'yaml';

export interface Problem {
  message: string;
  line?: number;
}

export interface PolicyCheck {
  format: Format;
  policy: Record<string, unknown> | null;
  problems: Problem[];
}

export const ENGINES = ['allow', 'json-schema', 'matcho', 'sql', 'complex'] as const;

export function detectFormat(text: string): Format {
  return /^\s*[{[]/.test(text) ? 'json' : 'yaml';
}

function lineAt(text: string, position: number): number {
  return text.slice(0, position).split('\n').length;
}

/** JSON or YAML text to a value, or the problems with the line of each; the resource editors use it too. */
export function parse(text: string, format: Format): { value: unknown; problems: Problem[] } {
  if (format === 'json') {
    try {
      return { value: JSON.parse(text), problems: [] };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const lineMatch = /line (\d+)/.exec(message);
      const positionMatch = /position (\d+)/.exec(message);
      // V8 names the position in some versions only; YAML (a superset of JSON) can always say where.
      const line = lineMatch ? Number(lineMatch[1]) : positionMatch ? lineAt(text, Number(positionMatch[1])) : yamlErrorLine(text);
      return { value: null, problems: [{ message: `JSON: ${message.replace(/^JSON\.parse: /, '')}`, line }] };
    }
  }
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length) {
    return {
      value: null,
      problems: document.errors.map((error) => ({
        message: `YAML: ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
        line: error.linePos?.[0]?.line ?? lineAt(text, error.pos[0]),
      })),
    };
  }
  try {
    return { value: document.toJS(), problems: [] };
  } catch (error) {
    // An alias to no anchor (`*x`) parses, then fails to resolve.
    return { value: null, problems: [{ message: `YAML: ${error instanceof Error ? error.message : String(error)}` }] };
  }
}

function yamlErrorLine(text: string): number | undefined {
  const error = parseDocument(text).errors[0];
  return error ? (error.linePos?.[0]?.line ?? lineAt(text, error.pos[0])) : undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> => Boolean(value) && typeof value === 'object' && !Array.isArray(value);

function checkEngine(policy: Record<string, unknown>, problems: Problem[], path = ''): void {
  const engine = policy.engine;
  if (engine === undefined) {
    problems.push({ message: `${path}engine is missing: one of ${ENGINES.join(', ')}` });
    return;
  }
  if (typeof engine !== 'string' || !(ENGINES as readonly string[]).includes(engine)) {
    problems.push({ message: `${path}engine must be one of ${ENGINES.join(', ')}, got ${JSON.stringify(engine)}` });
    return;
  }
  if (engine === 'json-schema' && !isObject(policy.schema)) problems.push({ message: `${path}schema must be an object (a JSON Schema over the request)` });
  if (engine === 'matcho' && !isObject(policy.matcho)) problems.push({ message: `${path}matcho must be an object (a pattern over the request)` });
  if (engine === 'sql') {
    const sql = policy.sql as { query?: unknown } | undefined;
    if (!isObject(sql) || typeof sql.query !== 'string' || !sql.query.trim()) problems.push({ message: `${path}sql.query must be a non-empty string` });
  }
  if (engine === 'complex') {
    const branches = ['and', 'or'].filter((key) => policy[key] !== undefined);
    if (branches.length !== 1) problems.push({ message: `${path}a complex policy needs exactly one of "and" or "or"` });
    for (const key of branches) {
      const rules = policy[key];
      if (!Array.isArray(rules) || rules.length === 0) problems.push({ message: `${path}${key} must be a non-empty list of rules` });
      else rules.forEach((rule, index) => (isObject(rule) ? checkEngine(rule, problems, `${path}${key}[${index}].`) : problems.push({ message: `${path}${key}[${index}] must be an object` })));
    }
  }
}

function checkLinks(policy: Record<string, unknown>, problems: Problem[]): void {
  if (policy.link === undefined) return;
  if (!Array.isArray(policy.link)) {
    problems.push({ message: 'link must be a list of references such as {reference: "Client/my-app"}' });
    return;
  }
  policy.link.forEach((link, index) => {
    const reference = isObject(link) ? (link.reference ?? (link.resourceType && link.id ? `${String(link.resourceType)}/${String(link.id)}` : undefined)) : undefined;
    if (typeof reference !== 'string' || !/^(Client|User|Operation)\/[A-Za-z0-9\-.]+$/.test(reference)) {
      problems.push({ message: `link[${index}] must reference a Client, User or Operation, e.g. {reference: "Client/my-app"}` });
    }
  });
}

export function checkPolicy(text: string): PolicyCheck {
  const format = detectFormat(text);
  if (!text.trim()) return { format, policy: null, problems: [{ message: 'The policy is empty.' }] };
  const { value, problems } = parse(text, format);
  if (problems.length) return { format, policy: null, problems };
  if (!isObject(value)) return { format, policy: null, problems: [{ message: 'A policy is an object (a map of fields).' }] };
  const policy = { ...value };
  if (policy.resourceType === undefined) policy.resourceType = 'AccessPolicy';
  if (policy.resourceType !== 'AccessPolicy') problems.push({ message: `resourceType must be "AccessPolicy", got ${JSON.stringify(policy.resourceType)}` });
  if (policy.id !== undefined && (typeof policy.id !== 'string' || !/^[A-Za-z0-9\-.]{1,64}$/.test(policy.id))) {
    problems.push({ message: 'id must be 1 to 64 letters, digits, "-" or "."' });
  }
  if (policy.roleName !== undefined && typeof policy.roleName !== 'string') problems.push({ message: 'roleName must be a string' });
  checkEngine(policy, problems);
  checkLinks(policy, problems);
  return { format, policy: problems.length ? null : policy, problems };
}
