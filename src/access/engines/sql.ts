// engine: sql — a query whose single value decides: true allows, anything else denies.
//   {{path}}  becomes a bind parameter holding the request's value at path, as text (cast it in SQL: {{jwt.exp}}::bigint)
//   {{!path}} becomes that value as a quoted identifier (a table or column name)
// The query is wrapped as a scalar subquery, `select (<query>)`: PostgreSQL itself then refuses several
// statements, data-modifying statements, more than one column and more than one row. It runs in a read-only
// transaction that is always rolled back, under a statement timeout, as a role that may read the resources
// and nothing else (see sql-runner.ts).
import { PolicyError, readPath, type Rule, type RuleOutcome, type SqlRunner } from '../policy.ts';
import type { RequestObject } from '../request-object.ts';
import { MAX_PLAN_COST, planCost, PolicyQueryTooCostly, SqlPoliciesUnavailable } from '../sql-runner.ts';

type Part = { text: string } | { param: string } | { identifier: string };

const PLACEHOLDER = /\{\{(!?)\s*([^{}]*?)\s*\}\}/g;
const PATH = /^[A-Za-z0-9_\-/]+(\.[A-Za-z0-9_\-/]+)*$/;

/**
 * Functions with effects a rolled-back read-only transaction does not undo (session locks and settings,
 * notifications, files, other connections), that only waste time, or that build huge values from nothing
 * (repeat, lpad, rpad, array_fill: the embedded store cannot stop them, see sql-runner.ts). Checked when a
 * policy is compiled; a denylist is a second line: the read-only transaction and the time and space bounds
 * are the first.
 */
const FORBIDDEN_FUNCTIONS =
  /(^|[^\w$])"?(repeat|lpad|rpad|array_fill|pg_sleep\w*|pg_(try_)?advisory\w*|set_config|pg_notify|dblink\w*|lo_\w+|pg_read_\w+|pg_ls_\w+|pg_stat_file|pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_switch_wal|pg_create_\w+|pg_drop_\w+|pg_logical_\w+|txid_current\w*|nextval|setval)"?\s*\(/i;

/**
 * Why a query failed at run time, in words that carry no data: a database's error message can quote the value
 * that failed (`invalid input syntax for type integer: "<a secret>"`, a table name built by query_to_xml), so
 * only its SQLSTATE and a fixed phrase go into a trace. A policy's result is allow or deny, never what its query
 * read (OWASP ASVS 5.0 V16.5.1: errors do not disclose data).
 */
const FAILURES: Record<string, string> = {
  '42501': 'permission denied',
  '42P01': 'no such table',
  '42703': 'no such column',
  '42883': 'no such function',
  '57014': 'canceled: it ran longer than allowed',
  '25006': 'it tried to write in a read-only transaction',
  '21000': 'a subquery returned more than one row',
  '42601': 'a syntax error, or a subquery with more than one column',
  '22P02': 'a value did not convert to the type asked',
  '22012': 'division by zero',
  '53400': 'it needed more working space than a policy may use',
  '53200': 'out of memory',
};

export function describeFailure(error: unknown): string {
  if (error instanceof SqlPoliciesUnavailable || error instanceof PolicyQueryTooCostly) return error.message;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return 'query failed';
  return `query failed: ${FAILURES[code] ?? 'database error'} (SQLSTATE ${code})`;
}


export interface SqlRule extends Rule {
  readonly engine: 'sql';
  readonly at: string;
  render(request: RequestObject | null): { query: string; params: unknown[] };
  hasIdentifiers: boolean;
}

function parseTemplate(sql: string, at: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const match of sql.matchAll(PLACEHOLDER)) {
    const [whole, bang, path] = match;
    if (!PATH.test(path)) throw new PolicyError(at, `invalid placeholder ${whole}: expected {{path.to.value}} or {{!path}}`);
    parts.push({ text: sql.slice(last, match.index) });
    parts.push(bang ? { identifier: path } : { param: path });
    last = match.index! + whole.length;
  }
  parts.push({ text: sql.slice(last) });
  const leftover = parts.find((part) => 'text' in part && /\{\{|\}\}/.test(part.text));
  if (leftover) throw new PolicyError(at, 'unbalanced {{ }} in query');
  return parts;
}

function asParameter(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export const quoteIdentifier = (name: string) => `"${name.replace(/"/g, '""')}"`;

export function compileSql(sql: unknown, at: string): SqlRule {
  const query = typeof sql === 'string' ? sql : (sql as { query?: unknown } | null)?.query;
  if (typeof query !== 'string' || query.trim() === '') throw new PolicyError(at, 'must be a SQL query (sql.query)');
  const body = query.trim().replace(/;\s*$/, '');
  const forbidden = FORBIDDEN_FUNCTIONS.exec(body);
  if (forbidden) throw new PolicyError(at, `function ${forbidden[2]}() is not allowed in a policy query`);
  const parts = parseTemplate(body, at);
  const hasIdentifiers = parts.some((part) => 'identifier' in part);

  function render(request: RequestObject | null) {
    const params: unknown[] = [];
    let text = '';
    for (const part of parts) {
      if ('text' in part) text += part.text;
      else if ('param' in part) {
        params.push(request ? asParameter(readPath(request, part.param)) : null);
        text += `$${params.length}`;
      } else {
        const value = request ? readPath(request, part.identifier) : 'warden_policy_check';
        if (typeof value !== 'string' || value === '' || value.includes('\0')) {
          throw new PolicyError(at, `{{!${part.identifier}}} is ${JSON.stringify(value) ?? 'absent'}, not a name`);
        }
        text += quoteIdentifier(value);
      }
    }
    // The newline ends a trailing -- comment, which would otherwise swallow the closing parenthesis.
    return { query: `select (\n${text}\n) as allowed`, params };
  }

  return {
    engine: 'sql',
    at,
    hasIdentifiers,
    render,
    async evaluate(input): Promise<RuleOutcome> {
      let rendered;
      try {
        rendered = render(input.request);
      } catch (error) {
        if (error instanceof PolicyError) return { allowed: false, reason: error.message };
        throw error;
      }
      try {
        const value = await input.db.run(rendered.query, rendered.params);
        return value === true
          ? { allowed: true, sql: rendered }
          : { allowed: false, reason: 'query did not return true', sql: rendered };
      } catch (error) {
        return { allowed: false, reason: describeFailure(error), sql: rendered };
      }
    },
  };
}

/** Checks at write time that the query parses, plans, reads only and is not too costly, with all values null. */
export async function verifySql(rule: SqlRule, runner: SqlRunner): Promise<void> {
  const { query, params } = rule.render(null);
  let plan: unknown;
  try {
    plan = await runner.run(`explain (format json) ${query}`, params);
  } catch (error) {
    if (error instanceof SqlPoliciesUnavailable) throw new PolicyError(rule.at, error.message);
    const code = (error as { code?: string }).code;
    // With {{!name}} the table or column is only known per request.
    if (rule.hasIdentifiers && (code === '42P01' || code === '42703')) return;
    throw new PolicyError(rule.at, `invalid SQL: ${(error as Error).message}`);
  }
  const cost = planCost(plan);
  if (Number.isFinite(cost) && cost > MAX_PLAN_COST) throw new PolicyError(rule.at, new PolicyQueryTooCostly(cost).message);
}
