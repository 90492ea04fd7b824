// `npm run build` (after the console's own build): bundles the server's TypeScript into dist/ with esbuild, one
// file per entry point, with every npm package left as an import so that `npm prune --omit=dev` keeps what the
// bundle needs. The few files the server reads at run time are copied next to the bundle, where the same relative
// URLs that find them in src/ find them from dist/*.js:
//   src/store/migrations/*.sql → dist/migrations/   (src/store/migrations.ts: ./migrations/)
//   src/pages/styles.css       → dist/styles.css    (src/pages/layout.ts: ./styles.css)
//   console/ (Vite)            → dist/console/      (src/build-output.ts: ../dist/console/)
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  // No keepNames: it wraps every function defined inside another in a call that sets its name each time the
  // outer one runs, 1 to 2.5% of a loaded server's CPU (profiles of reads, searches and the audit writer). Without
  // it a function whose name another module also uses is renamed (describe2), and a stack frame shows that name
  // beside its line; a class must keep its name (error types are logged), which the check below ensures.
  logLevel: 'warning',
});
// A class whose name two modules use is renamed in the bundle (FhirError2): give it a unique name instead.
const sourceClasses = new Set();
for (const file of readdirSync(new URL('src/', root), { recursive: true })) {
  if (!String(file).endsWith('.ts')) continue;
  for (const match of readFileSync(new URL(`src/${file}`, root), 'utf8').matchAll(/\bclass ([\w$]+)/g)) sourceClasses.add(match[1]);
}
for (const entry of ENTRY_POINTS) {
  const output = readFileSync(new URL(entry.replace(/^src\/(.*)\.ts$/, 'dist/$1.js'), root), 'utf8');
  const renamed = [...output.matchAll(/^(?:var|let|const) ([\w$]+) = class\b|^class ([\w$]+)/gm)]
    .map((match) => match[1] ?? match[2])
    .filter((name) => !sourceClasses.has(name));
  if (renamed.length > 0) throw new Error(`classes renamed by the bundler (give them unique names): ${renamed.join(', ')}`);
}
cpSync(new URL('src/store/migrations/', root), new URL('migrations/', dist), { recursive: true });
cpSync(new URL('src/pages/styles.css', root), new URL('styles.css', dist));
// What `npm start` compares the sources with, to know whether this build is stale (scripts/prestart.mjs).
writeFileSync(new URL('build.json', dist), `${JSON.stringify({ builtAt: new Date().toISOString() })}\n`);
