// CPU time of the processes a benchmark measures, read from /proc (Linux), so that a figure can be split
// between Warden, its PostgreSQL backends and the load generator.
import { execSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import postgres from 'postgres';

export const TICKS_PER_SECOND = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;

/** CPU seconds used so far by these processes (user + system, all threads), from /proc. */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // a backend that has exited since it was listed
    }
  }
  return ticks / TICKS_PER_SECOND;
}

export async function backendPids(database: string | undefined): Promise<number[]> {
  if (!database || !process.env.DATABASE_URL) return [];
  const admin = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    const rows = await admin<{ pid: number }[]>`select pid from pg_stat_activity where datname = ${database}`;
    return rows.map((row) => row.pid);
  } finally {
    await admin.end();
  }
}

/** A process's children (a supervisor's workers), from /proc. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      children.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
    }
  } catch {
    // the process has exited
  }
  return children;
}

/**
 * The share of the machine's CPU time taken by the hypervisor for other guests (steal, /proc/stat) since this
 * was called: a virtual machine's neighbours slow every process at once, and no ratio measured meanwhile holds.
 */
export function stealMeter(): () => number {
  const read = () => readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  const before = read();
  return () => {
    const delta = read().map((value, i) => value - (before[i] ?? 0));
    const total = delta.reduce((sum, value) => sum + value, 0);
    return total > 0 ? (delta[7] ?? 0) / total : 0;
  };
}
