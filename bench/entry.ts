// How a benchmark runs a script of a checkout: through tsx from its sources (the default), or, with
// BENCH_BUILT=1, a server's entry point (src/*.ts) as `npm start` runs it: the checkout's dist/ build, made first
// by its scripts/prestart.mjs when older than its sources. The build differs from tsx's sources in one way that
// shows in CPU profiles: tsx keeps function names (esbuild's keepNames), the build does not (scripts/build.mjs).
import { execFileSync } from 'node:child_process';

export function scriptArgs(cwd: string, script: string): string[] {
  const built = /^src\/(.+)\.ts$/.exec(script);
  if (!process.env.BENCH_BUILT || !built) return ['--import', 'tsx', script];
  execFileSync(process.execPath, ['scripts/prestart.mjs'], { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  return [`dist/${built[1]}.js`];
}
