// The postgres client's connection queue as installed (scripts/patch-dependencies.mjs patches it at install):
// under a steady load its busy queue is shifted and pushed once per query and never runs empty, and every
// connection that goes idle is removed from it. Upstream's queue kept every shifted slot and scanned them all in
// remove(), so the scan grew by one slot per query for as long as the load lasted.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

interface Queue<T> {
  readonly length: number;
  push(x: T): T;
  shift(): T;
  remove(x: T): T | null;
}
type MakeQueue = <T>(initial?: T[]) => Queue<T>;

const require = createRequire(import.meta.url);
const postgresDir = require.resolve('postgres').replace(/cjs\/src\/index\.js$/, '');

const formats: [string, () => Promise<MakeQueue>][] = [
  ['ES module', async () => (await import(pathToFileURL(`${postgresDir}src/queue.js`).href)).default],
  ['CommonJS', async () => require(`${postgresDir}cjs/src/queue.js`)],
];

/** The lengths of the arrays Array.prototype.indexOf searched, from each call's start index, while `run` ran. */
function searchedLengths(run: () => void): number[] {
  const searched: number[] = [];
  const indexOf = Array.prototype.indexOf;
  Array.prototype.indexOf = function (this: unknown[], x: unknown, from?: number) {
    searched.push(this.length - (from ?? 0));
    return indexOf.call(this, x, from);
  };
  try {
    run();
  } finally {
    Array.prototype.indexOf = indexOf;
  }
  return searched;
}

for (const [format, load] of formats) {
  test(`postgres queue (${format}): remove() after 100,000 shift-and-push cycles searches only the live slots`, async () => {
    const Queue = await load();
    const busy = Queue<string>();
    const connections = ['c0', 'c1', 'c2', 'c3'];
    for (const c of connections) busy.push(c);
    for (let query = 0; query < 100_000; query++) busy.push(busy.shift());
    const searched = searchedLengths(() => assert.equal(busy.remove('c2'), 'c2'));
    assert.ok(searched.length > 0 && Math.max(...searched) < 200, `remove() searched ${Math.max(...searched)} slots for 4 connections`);
    // Still a queue: the others come out in order, the removed one never, and it empties.
    assert.equal(busy.length, 3);
    const order = [busy.shift(), busy.shift(), busy.shift()];
    assert.deepEqual([...order].sort(), ['c0', 'c1', 'c3']);
    assert.equal(busy.length, 0);
    assert.equal(busy.remove('c0'), null);
  });

  test(`postgres queue (${format}): order is kept across the dropping of shifted slots`, async () => {
    const Queue = await load();
    const queue = Queue<number>();
    let next = 0;
    let expected = 0;
    // A queue that holds 1 to 100 items, in and out in bursts, with removals from its middle.
    const removed = new Set<number>();
    for (let step = 0; step < 5_000; step++) {
      for (let i = 0; i < (step % 7) + 1; i++) queue.push(next++);
      if (step % 13 === 0 && queue.length > 2) {
        const victim = next - 2;
        assert.equal(queue.remove(victim), victim);
        removed.add(victim);
      }
      while (queue.length > 100 || (step % 5 === 0 && queue.length > 0)) {
        while (removed.has(expected)) expected++;
        assert.equal(queue.shift(), expected++);
      }
    }
  });
}
