// `npm run bench`: runs each benchmark below in order. A benchmark is a module in bench/ exporting
// `run(): Promise<void>` that prints its own figures; add yours to the list.
const benchmarks: { name: string; load: () => Promise<{ run: () => Promise<void> }> }[] = [
  { name: 'store-api', load: () => import('./store-api.ts') },
];

for (const benchmark of benchmarks) {
  console.log(`\n== ${benchmark.name}`);
  await (await benchmark.load()).run();
}
