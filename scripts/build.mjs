// `npm run build` (after the console's own build): bundles the server's TypeScript into dist/ with esbuild, one
// file per entry point, with every npm package left as an import so that `npm prune --omit=dev` keeps what the
// bundle needs. The few files the server reads at run time are copied next to the bundle, where the same relative
// URLs that find them in src/ find them from dist/*.js:
//   src/store/migrations/*.sql → dist/migrations/   (src/store/migrations.ts: ./migrations/)
//   src/pages/styles.css       → dist/styles.css    (src/pages/layout.ts: ./styles.css)
//   console/ (Vite)            → dist/console/      (src/build-output.ts: ../dist/console/)
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('../', import.meta.url);
const dist = new URL('dist/', root);
const ENTRY_POINTS = ['src/main.ts', 'src/cli.ts'];

for (const output of ['main.js', 'main.js.map', 'cli.js', 'cli.js.map', 'migrations', 'styles.css']) {
  rmSync(new URL(output, dist), { recursive: true, force: true });
}
mkdirSync(dist, { recursive: true });
await build({
  absWorkingDir: new URL('.', root).pathname,
  entryPoints: ENTRY_POINTS,
  outdir: 'dist',
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  // Class and function names stay as written: error types and stack frames are read by operators.
  keepNames: true,
  logLevel: 'warning',
});
cpSync(new URL('src/store/migrations/', root), new URL('migrations/', dist), { recursive: true });
cpSync(new URL('src/pages/styles.css', root), new URL('styles.css', dist));
// What `npm start` compares the sources with, to know whether this build is stale (scripts/prestart.mjs).
writeFileSync(new URL('build.json', dist), `${JSON.stringify({ builtAt: new Date().toISOString() })}\n`);
