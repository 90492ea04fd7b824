// `postinstall`: fixes a dependency's defect that Warden meets under load, in node_modules, until upstream does.
//
// postgres (porsager/postgres 3.4.x), src/queue.js: the pool keeps its connections in queues whose shift()
// leaves a hole at the front of the array and frees the array only when the queue runs empty. The queue of busy
// connections never runs empty under a steady load (a connection is shifted, given a query and pushed back), so
// its array grows by one slot per query, and remove(), called each time a connection goes idle, scans every
// slot from the start: measured 14,838 slots after 10 s of reads, and 8% of a loaded server's CPU in remove().
// The patched queue searches from its head and drops the shifted slots once they are half the array.
//
// The file is replaced only when it is exactly the one this patch was written against (either module format):
// any other content (a fixed or changed upstream) is left as it is, with a line saying so.
import { readFileSync, writeFileSync } from 'node:fs';

const ORIGINAL = `function Queue(initial = []) {
  let xs = initial.slice()
  let index = 0

  return {
    get length() {
      return xs.length - index
    },
    remove: (x) => {
      const index = xs.indexOf(x)
      return index === -1
        ? null
        : (xs.splice(index, 1), x)
    },
    push: (x) => (xs.push(x), x),
    shift: () => {
      const out = xs[index++]

      if (index === xs.length) {
        index = 0
        xs = []
      } else {
        xs[index - 1] = undefined
      }

      return out
    }
  }
}
`;

/** The patch: two changes to ORIGINAL, each [what it was, what it becomes], and a line saying so at the top. */
const CHANGES = [
  [
    `      const index = xs.indexOf(x)
      return index === -1
        ? null
        : (xs.splice(index, 1), x)`,
    `      const at = xs.indexOf(x, index)
      return at === -1
        ? null
        : (xs.splice(at, 1), x)`,
  ],
  [
    `      } else {
        xs[index - 1] = undefined`,
    `      } else if (index >= 64 && index * 2 >= xs.length) {
        xs = xs.slice(index)
        index = 0
      } else {
        xs[index - 1] = undefined`,
  ],
];
const PATCHED = CHANGES.reduce(
  (text, [was, becomes]) => text.replace(was, becomes),
  `// Patched by Warden (scripts/patch-dependencies.mjs): remove() searches from the head, and the shifted slots
// are dropped once they are half the array, which otherwise grows by one slot per query under a steady load.
${ORIGINAL}`,
);

const FILES = [
  { path: 'node_modules/postgres/src/queue.js', exported: 'export default Queue\n\n' },
  { path: 'node_modules/postgres/cjs/src/queue.js', exported: 'module.exports = Queue\n\n' },
];

const root = new URL('../', import.meta.url);
for (const { path, exported } of FILES) {
  const file = new URL(path, root);
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    continue; // not installed (a partial install): nothing to patch
  }
  if (text === exported + PATCHED) continue;
  if (text !== exported + ORIGINAL) {
    console.warn(`patch-dependencies: ${path} is not the version this patch was written for; left as it is`);
    continue;
  }
  writeFileSync(file, exported + PATCHED);
}
