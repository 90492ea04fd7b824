// `npm run bench`: runs each benchmark below in order. A benchmark is a module in bench/ exporting
// `run(): Promise<void>` that prints its own figures; add yours to the list.
const benchmarks: { name: string; load: () => Promise<{ run: () => Promise<void> }> }[] = [
  { name: 'store-api', load: () => import('./store-api.ts') },
  { name: 'search', load: () => import('./search.ts') },
  { name: 'tokens', load: () => import('./tokens.ts') },
  { name: 'access', load: () => import('./access.ts') },
  { name: 'reads', load: () => import('./reads.ts') },
  { name: 'external', load: () => import('./external.ts') },
  { name: 'smart', load: () => import('./smart.ts') },
  { name: 'validation', load: () => import('./validation.ts') },
  { name: 'bundles', load: () => import('./bundles.ts') },
  { name: 'export', load: () => import('./export.ts') },
  { name: 'audit', load: () => import('./audit.ts') },
  { name: 'workers', load: () => import('./workers.ts') },
  { name: 'soak', load: () => import('./soak.ts') },
];

// `npm run bench -- tokens access` runs only the named ones.
const wanted = process.argv.slice(2);
const selected = wanted.length > 0 ? benchmarks.filter((benchmark) => wanted.includes(benchmark.name)) : benchmarks;

for (const benchmark of selected) {
  console.log(`\n== ${benchmark.name}`);
  await (await benchmark.load()).run();
}
