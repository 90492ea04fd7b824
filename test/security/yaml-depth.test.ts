// A YAML body nested past the stack must be refused, not take the process down (CWE-674, OWASP ASVS 5.0 V1.5.2:
// deserialising untrusted data safely). The yaml library composes values recursively; when that overflows the
// stack, V8 may need to compile a regular expression at the stack's edge, which aborts the process with "FATAL
// ERROR: RegExpCompiler Allocation failed" instead of throwing. parseYamlBody measures the nesting on the
// library's syntax tree first. The child reproduces the abort on the code before that check (after garbage
// collections have dropped the expressions' compiled code, as a long-running server's do).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseYamlBody } from '../../src/http/body-parsers.ts';

const child = fileURLToPath(new URL('../helpers/yaml-deep-child.ts', import.meta.url));

test('YAML texts thousands of levels deep are refused with the depth error, and the process lives', () => {
  const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', child], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, `the child exited with ${run.status} (${run.signal}):\n${run.stderr.slice(0, 400)}`);
  assert.deepEqual(run.stdout.trim().split('\n'), Array(4).fill('refused: Request body nests deeper than 64 levels'));
});

// The same bound as the parsed value's (assertDepth), except that a key which is a collection counts too: the
// library composes it recursively like a value, though the value keeps it as text.
test('64 levels pass and 65 are refused, in block and flow collections and in keys that are collections', () => {
  const shapes: Record<string, (levels: number) => string> = {
    'block mapping': (levels) => `${Array.from({ length: levels }, (_, i) => `${'  '.repeat(i)}a:`).join('\n')} 1`,
    'block sequence': (levels) => `${'- '.repeat(levels)}x`,
    'flow sequence': (levels) => `${'['.repeat(levels)}1${']'.repeat(levels)}`,
    'flow mapping': (levels) => `${'{a: '.repeat(levels)}1${'}'.repeat(levels)}`,
    'complex key': (levels) => `${'? '.repeat(levels - 1)}[x]`,
  };
  for (const [shape, text] of Object.entries(shapes)) {
    assert.doesNotThrow(() => parseYamlBody(text(64), 64), `${shape}, 64 levels`);
    assert.throws(() => parseYamlBody(text(65), 64), /nests deeper than 64 levels/, `${shape}, 65 levels`);
  }
});
