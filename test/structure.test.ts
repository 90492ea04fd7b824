// The shape of src/: no circular imports, and imports run down the layers (HTTP at the top, the store and the
// shared vocabulary at the bottom), with at most the few exceptions listed here, each with its reason.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/** Bottom to top: a module may import from its own layer and the ones before it. */
const LAYERS = [
  'errors', 'fhir', 'config', 'build-output', 'log', 'observe', 'store', 'context', 'search', 'http', 'smart', 'iam', 'tokens', 'audit', 'authn', 'access',
  'pages', 'oauth|federation', 'resources|validation|bulk', 'console', 'health', 'server', 'app', 'admin', 'cli', 'process', 'main',
];

/** The imports allowed to run up, at most three (issue 14). */
const ALLOWED_UPWARD = new Set([
  // AppContext names the policy store's type; a type-only import, erased at run time.
  'context.ts -> access/policy-store.ts',
  // The AccessPolicy write rule compiles the policy, so a bad one is refused when written.
  'iam/write-rules.ts -> access/write-rule.ts',
  // The metrics live low (the authorize step and the token endpoint count); their /metrics route reads AppContext.
  'observe/routes.ts -> context.ts',
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g)]
      .map((match) => resolve(dirname(file), match[1] ?? match[2]));
    graph.set(relative(SRC, file), targets.map((target) => relative(SRC, target)));
  }
  return graph;
}

const layerOf = (file: string) => {
  const name = file.includes('/') ? file.split('/')[0] : file.replace(/\.ts$/, '');
  return LAYERS.findIndex((layer) => layer.split('|').includes(name));
};

test('every folder and top-level module of src/ has a layer', () => {
  for (const file of importGraph().keys()) assert.ok(layerOf(file) >= 0, `${file} is in no layer: add it to LAYERS`);
});

test('src/ has no circular imports', () => {
  const graph = importGraph();
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
      return;
    }
    state.set(file, 'open');
    for (const target of graph.get(file) ?? []) visit(target, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  assert.deepEqual(cycles, []);
});

test('imports run down the layers, but for at most three listed exceptions', () => {
  const upward: string[] = [];
  for (const [file, targets] of importGraph()) {
    for (const target of targets) if (layerOf(target) > layerOf(file)) upward.push(`${file} -> ${target}`);
  }
  assert.ok(ALLOWED_UPWARD.size <= 3);
  assert.deepEqual(upward.filter((edge) => !ALLOWED_UPWARD.has(edge)), []);
});
