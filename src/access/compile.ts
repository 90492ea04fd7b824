// Turns an AccessPolicy resource into a rule once, so a request only evaluates, never parses. The same
// compilation validates a policy at write time: what compiles here is what will run.
import type { Resource } from '../store/resource-store.ts';
import { compileAllow } from './engines/allow.ts';
import { compileComplex } from './engines/complex.ts';
import { compileJsonSchema } from './engines/json-schema.ts';
import { compileMatchoRule } from './engines/matcho.ts';
import { compileSmartOnFhir } from './engines/smart-on-fhir.ts';
import { compileSql, verifySql, type SqlRule } from './engines/sql.ts';
import { ENGINES, PolicyError, type EngineName, type Rule, type SqlRunner } from './policy.ts';

export const LINK_TYPES = ['Client', 'User', 'Operation'] as const;

const POLICY_FIELDS = new Set([
  'resourceType', 'id', 'meta', 'description', 'text', 'type', 'module',
  'engine', 'schema', 'matcho', 'sql', 'and', 'or', 'link', 'roleName',
]);

export interface CompiledPolicy {
  id: string;
  engine: EngineName;
  rule: Rule;
  /** "Client/id", "User/id" or "Operation/id"; none means the policy applies to every request. */
  links: string[];
  roleName?: string;
  /** Whether it applies to every request: no link and no role. */
  global: boolean;
}

/** Older Aidbox policies have no `engine`; it follows from the field they carry. */
function engineOf(policy: Record<string, unknown>, at: string): EngineName {
  const engine = policy.engine;
  if (engine === undefined) {
    if (policy.schema !== undefined) return 'json-schema';
    if (policy.matcho !== undefined) return 'matcho';
    if (policy.sql !== undefined) return 'sql';
    if (policy.and !== undefined || policy.or !== undefined) return 'complex';
    throw new PolicyError(`${at}.engine`, `is required: one of ${ENGINES.join(', ')}`);
  }
  if (typeof engine !== 'string' || !(ENGINES as readonly string[]).includes(engine)) {
    throw new PolicyError(`${at}.engine`, `must be one of ${ENGINES.join(', ')}, got ${JSON.stringify(engine)}`);
  }
  return engine as EngineName;
}

export function compileRule(value: unknown, at: string, depth = 0): Rule {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new PolicyError(at, 'must be a rule object');
  const policy = value as Record<string, unknown>;
  const engine = engineOf(policy, at);
  switch (engine) {
    case 'allow':
      return compileAllow();
    case 'json-schema':
      return compileJsonSchema(policy.schema, `${at}.schema`);
    case 'matcho':
      return compileMatchoRule(policy.matcho, `${at}.matcho`);
    case 'sql':
      return compileSql(policy.sql, `${at}.sql`);
    case 'complex':
      return compileComplex(policy, at, depth, compileRule);
    case 'smart-on-fhir':
      return compileSmartOnFhir();
  }
}

function linkKey(link: unknown, at: string): string {
  if (link === null || typeof link !== 'object' || Array.isArray(link)) {
    throw new PolicyError(at, 'must be a reference such as {resourceType: Client, id: my-client}');
  }
  const { resourceType, id, reference } = link as Record<string, unknown>;
  const [type, ref] =
    typeof reference === 'string' && resourceType === undefined ? reference.split('/', 2) : [resourceType, id];
  if (typeof type !== 'string' || !(LINK_TYPES as readonly string[]).includes(type)) {
    throw new PolicyError(`${at}.resourceType`, `must be one of ${LINK_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
  }
  if (typeof ref !== 'string' || ref === '') throw new PolicyError(`${at}.id`, 'is required');
  return `${type}/${ref}`;
}

export function compilePolicy(resource: Resource): CompiledPolicy {
  const at = 'AccessPolicy';
  for (const key of Object.keys(resource)) {
    if (!POLICY_FIELDS.has(key)) throw new PolicyError(`${at}.${key}`, `unknown field; known: ${[...POLICY_FIELDS].join(', ')}`);
  }
  const rule = compileRule(resource, at);
  const links = resource.link === undefined ? [] : resource.link;
  if (!Array.isArray(links)) throw new PolicyError(`${at}.link`, 'must be an array of references');
  const roleName = resource.roleName;
  if (roleName !== undefined && (typeof roleName !== 'string' || roleName === '')) {
    throw new PolicyError(`${at}.roleName`, 'must be a non-empty string');
  }
  const keys = links.map((link, i) => linkKey(link, `${at}.link[${i}]`));
  return {
    id: resource.id,
    engine: rule.engine,
    rule,
    links: keys,
    roleName: roleName as string | undefined,
    global: keys.length === 0 && roleName === undefined,
  };
}

function sqlRules(rule: Rule): SqlRule[] {
  if (rule.engine === 'sql') return [rule as SqlRule];
  const parts = (rule as Rule & { parts?: Rule[] }).parts ?? [];
  return parts.flatMap(sqlRules);
}

/** Runs the checks that need the database: every SQL query of the policy must plan. */
export async function verifyPolicy(policy: CompiledPolicy, runner: SqlRunner): Promise<void> {
  for (const rule of sqlRules(policy.rule)) await verifySql(rule, runner);
}
