// Regular expressions written by policy authors run on every request, so they must not be able to hang the
// server: they run on RE2 (re2js), whose matching time is linear in the input, never backtracking.
import { RE2JS } from 're2js';

export interface LinearRegex {
  /** True when the pattern matches anywhere in `input` (JavaScript's RegExp.test semantics). */
  test(input: string): boolean;
}

export class RegexError extends Error {}

export function compileRegex(source: string): LinearRegex {
  try {
    return RE2JS.compile(source);
  } catch (error) {
    // RE2 rejects backreferences and lookaround, the features that need backtracking; say so.
    throw new RegexError(`invalid regex ${JSON.stringify(source)}: ${(error as Error).message} (RE2 syntax: no backreferences or lookaround)`);
  }
}

/** The regex engine handed to ajv, so JSON Schema `pattern` and `patternProperties` run on RE2 too. */
export const ajvRegExp = Object.assign((pattern: string) => compileRegex(pattern), {
  code: 'require("re2js").RE2JS.compile',
});
