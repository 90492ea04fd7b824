import { openPglite } from '/work/wt-prod/src/store/pglite.ts';
import { migrate } from '/work/wt-prod/src/store/migrations.ts';
import { ResourceStore } from '/work/wt-prod/src/store/resource-store.ts';
const db = await openPglite('memory://');
await migrate(db);
const store = new ResourceStore(db);
for (let i = 0; i < 50; i++) await store.write({ resourceType: 'Patient', id: `p${i}`, name: [{ family: 'Soak' }] }, null);
async function timeReads(n = 300) {
  const t = performance.now();
  for (let i = 0; i < n; i++) { await store.read('Patient', `p${i % 50}`); await store.search('Patient', { count: 10, offset: 0, sort: 'id', total: false }); }
  return ((performance.now() - t) / n).toFixed(3);
}
const stats = async () => (await db.query<{ n_dead_tup: number; relname: string }>("select relname, n_dead_tup from pg_stat_user_tables where n_dead_tup > 0 order by n_dead_tup desc limit 4"));
console.log('fresh ms/iter', await timeReads());
for (let round = 0; round < 4; round++) {
  for (let i = 0; i < 5000; i++) {
    const current = (await store.read('Patient', `p${i % 50}`))!;
    await store.write({ ...current.resource, active: i % 2 === 0 }, current.versionId);
  }
  console.log(`after ${(round + 1) * 5000} updates ms/iter`, await timeReads(), JSON.stringify(await stats()));
}
await db.exec('vacuum');
console.log('after vacuum ms/iter', await timeReads());
await db.close();
