// engine: allow — allows every request the policy applies to; its `link` or `roleName` says which.
import type { Rule } from '../policy.ts';

export function compileAllow(): Rule {
  return { engine: 'allow', evaluate: () => ({ allowed: true }) };
}
