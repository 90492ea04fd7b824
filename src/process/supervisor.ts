// WARDEN_WORKERS > 1: this process starts that many workers (node:cluster), each a whole server on the same
// port (the supervisor hands each new connection to the next worker), and takes no request itself.
//   - a worker that dies is replaced; one that dies within seconds of its start is replaced after a growing
//     delay, so a server that cannot start (store unreachable) does not spin;
//   - SIGTERM or SIGINT is passed to every worker, which finishes its requests under way and exits (main.ts);
//     the supervisor exits once they all have, 0 if they all ended cleanly;
//   - the workers' metrics are summed here (src/observe/metrics.ts), and served on WARDEN_METRICS_PORT if set.
import cluster, { type Worker } from 'node:cluster';
import { pino } from 'pino';
import type { Config } from '../config.ts';
import { serializeError } from '../log.ts';
import { answerMetricsRequests } from '../observe/metrics.ts';
import { serveMetrics } from '../observe/metrics-server.ts';

/** A worker that lived less than this is taken to have failed at start. */
const EARLY_DEATH_MS = 5_000;
const MAX_RESTART_DELAY_MS = 30_000;

export async function superviseWorkers(config: Config): Promise<never> {
  const log = pino({ level: config.logLevel, serializers: { err: serializeError } });
  const startedAt = new Map<Worker, number>();
  let restartDelay = 0;
  let stopping = false;

  const fork = () => {
    const worker = cluster.fork();
    startedAt.set(worker, Date.now());
    answerMetricsRequests(worker);
  };

  let exitCode = 0;
  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker) ?? 0);
    startedAt.delete(worker);
    if (stopping) {
      if (code !== 0) {
        exitCode = 1;
        log.warn({ pid: worker.process.pid, code, signal }, 'a worker did not stop cleanly');
      }
      if (startedAt.size === 0) process.exit(exitCode);
      return;
    }
    restartDelay = lived < EARLY_DEATH_MS ? Math.min(MAX_RESTART_DELAY_MS, Math.max(250, restartDelay * 2)) : 0;
    log.error({ pid: worker.process.pid, code, signal, restartInMs: restartDelay }, 'a worker died; replacing it');
    setTimeout(() => stopping || fork(), restartDelay);
  });

  for (let i = 0; i < config.workers; i++) fork();
  if (config.metrics.port !== undefined) await serveMetrics(config.metrics.port, config.metrics.host);
  log.info({ workers: config.workers, pid: process.pid }, 'supervising workers');

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping the workers');
      if (startedAt.size === 0) process.exit(0);
      for (const worker of startedAt.keys()) worker.process.kill('SIGTERM');
    });
  }
  return new Promise<never>(() => {});
}
