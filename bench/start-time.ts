// Start time of the production build (`node dist/main.js`, run `npm run build` first) on the embedded store: from
// spawn until GET /health/ready answers 200, polled every 20 ms, and the CPU time the process used until then (less
// noisy than wall time on a shared machine). The first start creates the store in a new folder; the next ones open it.
//   npx tsx bench/start-time.ts       (BENCH_STARTS starts of an existing store, default 5; median reported)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort } from '../test/helpers/server.ts';
import { cpuSeconds, TICKS_PER_SECOND } from './cpu.ts';

const repo = fileURLToPath(new URL('../', import.meta.url));
const starts = Number(process.env.BENCH_STARTS ?? 5);

interface Start {
  /** Wall milliseconds from spawn to the first 200 from /health/ready. */
  ms: number;
  /** CPU milliseconds (user + system, all threads) the process used until then. */
  cpuMs: number;
  /** Of which its main thread: the rest is V8's background work (mostly compiling PGlite's WebAssembly). */
  mainMs: number;
}

/** CPU milliseconds of a process's main thread, from /proc (Linux). */
function mainThreadCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

async function startOnce(dataDir: string): Promise<Start> {
  const port = await freePort();
  const began = performance.now();
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: repo,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', WARDEN_DATA_DIR: dataDir },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`Warden exited with ${child.exitCode}`);
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then((response) => response.ok, () => false);
      if (ready) return { ms: performance.now() - began, cpuMs: cpuSeconds([child.pid!]) * 1000, mainMs: mainThreadCpuMs(child.pid!) };
      if (performance.now() - began > 120_000) throw new Error('Warden did not start in two minutes');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');

export async function run(): Promise<void> {
  if (!existsSync(join(repo, 'dist/main.js'))) throw new Error('dist/main.js is missing: run `npm run build` first');
  const dataDir = mkdtempSync(join(tmpdir(), 'warden-start-'));
  try {
    console.log(`load average before: ${load()}`);
    const first = await startOnce(join(dataDir, 'store'));
    console.log(`first start (creates the store): ${first.ms.toFixed(0)} ms, CPU ${first.cpuMs.toFixed(0)} ms (main thread ${first.mainMs.toFixed(0)} ms)`);
    const runs: Start[] = [];
    for (let i = 0; i < starts; i++) {
      runs.push(await startOnce(join(dataDir, 'store')));
      console.log(`start ${i + 1}: ${runs[i].ms.toFixed(0)} ms, CPU ${runs[i].cpuMs.toFixed(0)} ms (main thread ${runs[i].mainMs.toFixed(0)} ms), load ${load()}`);
    }
    console.log(`existing store, median of ${starts}: ${median(runs.map((r) => r.ms)).toFixed(0)} ms, CPU ${median(runs.map((r) => r.cpuMs)).toFixed(0)} ms (main thread ${median(runs.map((r) => r.mainMs)).toFixed(0)} ms)`);
    console.log(`load average after: ${load()}`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
