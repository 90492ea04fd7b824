// Run by test/security/yaml-depth.test.ts in a process of its own, with --expose-gc: YAML texts nested far
// deeper than allowed, each parsed after garbage collections that drop the compiled code of the regular
// expressions the yaml library tests scalars with. Prints one line per text; a process that aborts prints fewer.
import { parseYamlBody } from '../../src/http/body-parsers.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
parseYamlBody('a: [1, true, null, x, 1.5]\n', 64); // compiles the library's scalar expressions
for (const text of [`${'- '.repeat(5000)}x`, `${'- '.repeat(2000)}x`, `${'['.repeat(3000)}x`, `${'? '.repeat(3000)}x`]) {
  for (let i = 0; i < 3; i++) gc();
  try {
    parseYamlBody(text, 64);
    console.log('parsed');
  } catch (error) {
    console.log(`refused: ${(error as Error).message}`);
  }
}
