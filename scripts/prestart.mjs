// Runs before `npm start` (and `npm run warden`): builds dist/ when it is missing or older than the sources, so
// that `npm ci && npm start` works on a fresh clone. An install without the build tools (`npm ci --omit=dev`,
// `npm prune --omit=dev`) never builds: it runs the dist/ it was given, and says so when the sources are newer.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const stamp = join(root, 'dist/build.json');
/** What a build is made from (a deleted file changes its folder's time). */
const SOURCES = ['src', 'console', 'scripts/build.mjs', 'package-lock.json'];

function newestChange(path) {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestChange(join(path, entry)));
  return newest;
}

function hasBuildTools() {
  try {
    createRequire(import.meta.url).resolve('esbuild');
    return true;
  } catch {
    return false;
  }
}

const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const sourcesChanged = SOURCES.some((source) => newestChange(join(root, source)) > built);
if (sourcesChanged && hasBuildTools()) {
  console.error(built ? 'warden: the sources changed since the last build; building…' : 'warden: first start, building…');
  execSync('npm run build --silent', { cwd: root, stdio: 'inherit' });
} else if (!built) {
  console.error('warden: dist/ is missing and the build tools are not installed: run `npm ci && npm run build` first.');
  process.exit(1);
} else if (sourcesChanged) {
  console.error('warden: the sources are newer than dist/, but the build tools are not installed: running the existing build.');
}
