// What an AccessPolicy compiles to: a rule that takes the request object and says allow or not, with the
// reason, so a decision can be explained.
import type { Queryable } from '../store/database.ts';
import type { SmartDecision } from '../smart/enforce.ts';
import type { RequestObject } from './request-object.ts';

export const ENGINES = ['allow', 'json-schema', 'matcho', 'sql', 'complex', 'smart-on-fhir'] as const;
export type EngineName = (typeof ENGINES)[number];

export interface RuleOutcome {
  allowed: boolean;
  /** Why not, in words a policy author can act on. */
  reason?: string;
  /** The SQL run and its bind parameters, for sql rules. */
  sql?: { query: string; params: unknown[] };
  /** The outcomes of the parts of a complex rule. */
  parts?: RuleOutcome[];
}

/** What a rule is evaluated with. */
export interface Evaluation {
  request: RequestObject;
  /** Whether to put reasons into words: only when someone will read them (explain, debug). */
  explain: boolean;
  /** The request without its empty values (json-schema's view), computed at most once per request. */
  compact(): unknown;
  /** Where sql rules run. */
  db: SqlRunner;
  /**
   * Whether the user's own rights allow the request: the policies that apply to the user alone (no client, no
   * token, no SMART scopes). A `smart-on-fhir` rule asks it, so scopes only ever narrow what the user may do.
   */
  userRights(): Promise<boolean>;
  /** The SMART scopes' decision on this request, when the authorize step made it (scopes parsed once). */
  smart?: SmartDecision;
}

export interface SqlRunner {
  /** Runs one read-only, time-limited query; its single value decides. */
  run(query: string, params: unknown[]): Promise<unknown>;
}

export interface Rule {
  readonly engine: EngineName;
  evaluate(input: Evaluation): RuleOutcome | Promise<RuleOutcome>;
}

/** A policy that cannot be compiled; `path` names the offending field, as `AccessPolicy.matcho.uri`. */
export class PolicyError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
  }
}

/** Reads `a.b.c` from a value; keys may contain slashes (`params.resource/type`), numeric keys index arrays. */
export function readPath(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Object.hasOwn(current, key) ? (current as Record<string, unknown>)[key] : undefined;
  }
  return current;
}

export type { Queryable };
