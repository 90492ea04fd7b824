// engine: complex — `and` (every rule allows) and `or` (some rule allows) of rules, each written like a
// policy of its own (engine plus that engine's field), nested to any reasonable depth.
import { PolicyError, type Rule, type RuleOutcome } from '../policy.ts';

export type CompileRule = (rule: unknown, at: string, depth: number) => Rule;

export const MAX_DEPTH = 16;

function rules(value: unknown, at: string, depth: number, compile: CompileRule): Rule[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) throw new PolicyError(at, 'must be a non-empty array of rules');
  return value.map((rule, i) => compile(rule, `${at}[${i}]`, depth + 1));
}

export function compileComplex(policy: Record<string, unknown>, at: string, depth: number, compile: CompileRule): Rule & { parts: Rule[] } {
  if (depth > MAX_DEPTH) throw new PolicyError(at, `complex rules nest deeper than ${MAX_DEPTH} levels`);
  const and = rules(policy.and, `${at}.and`, depth, compile);
  const or = rules(policy.or, `${at}.or`, depth, compile);
  if (!and && !or) throw new PolicyError(at, 'a complex policy needs `and` or `or`');
  return {
    engine: 'complex',
    parts: [...(and ?? []), ...(or ?? [])],
    async evaluate(input): Promise<RuleOutcome> {
      const parts: RuleOutcome[] = [];
      for (const rule of and ?? []) {
        const outcome = await rule.evaluate(input);
        parts.push(outcome);
        if (!outcome.allowed) {
          return { allowed: false, reason: input.explain ? `and: rule ${parts.length} denied: ${outcome.reason ?? ''}` : undefined, parts };
        }
      }
      if (!or) return { allowed: true, parts };
      for (const rule of or) {
        const outcome = await rule.evaluate(input);
        parts.push(outcome);
        if (outcome.allowed) return { allowed: true, parts };
      }
      return { allowed: false, reason: 'or: no rule allowed', parts };
    },
  };
}
