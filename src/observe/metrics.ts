// What an operator watches, in Prometheus's text format (prom-client). The metrics describe this process, as
// Prometheus scrapes a process: they live in prom-client's registry, one per process; with several workers the
// supervisor sums the workers' registries (src/process/supervisor.ts). Labels are bounded sets (route patterns,
// grant types, status codes), never ids or paths a caller chooses.
import cluster from 'node:cluster';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, register } from 'prom-client';

collectDefaultMetrics({ prefix: 'warden_' });

export const httpRequestSeconds = new Histogram({
  name: 'warden_http_request_duration_seconds',
  help: 'Time from a request received to its response sent, by method, route pattern and status code.',
  labelNames: ['method', 'route', 'status'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
});

export const tokensIssued = new Counter({
  name: 'warden_tokens_issued_total',
  help: 'Token responses from POST /auth/token, by grant type.',
  labelNames: ['grant'],
});

export const authFailures = new Counter({
  name: 'warden_auth_failures_total',
  help: 'Failed authentications counted by the brute-force throttle, by what was presented: client_secret, password, or a guessed code or token.',
  labelNames: ['credential'],
});

export const throttledRequests = new Counter({
  name: 'warden_throttled_requests_total',
  help: 'Authentications refused with 429 because the identity or address used up its failures.',
});

export const policyDecisionSeconds = new Histogram({
  name: 'warden_policy_decision_duration_seconds',
  help: 'Time to decide a request against the AccessPolicies, by outcome.',
  labelNames: ['allowed'],
  buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
});

export const storeQueriesInFlight = new Gauge({
  name: 'warden_store_queries_in_flight',
  help: 'Queries and transactions sent to PostgreSQL and not yet answered; past the pool size they wait for a connection.',
});

export const storePoolSize = new Gauge({
  name: 'warden_store_pool_size',
  help: 'Connections the PostgreSQL pool may open.',
});

export const cacheLookups = new Counter({
  name: 'warden_cache_lookups_total',
  help: 'Clients, Users and Sessions looked up in the in-memory cache, by result (hit or miss); hit ratio = hit / all.',
  labelNames: ['result'],
});

export const auditQueued = new Gauge({
  name: 'warden_audit_queue_size',
  help: 'AuditEvents waiting to be written to the store.',
});

export const auditDropped = new Counter({
  name: 'warden_audit_dropped_total',
  help: 'AuditEvents dropped because the queue was full (the store unreachable or too slow for too long).',
});

export const auditWritten = new Counter({
  name: 'warden_audit_written_total',
  help: 'AuditEvents written to the store.',
});

export const auditWriteFailures = new Counter({
  name: 'warden_audit_write_failures_total',
  help: 'Batches of AuditEvents that could not be written (retried with backoff).',
});

export const auditExported = new Counter({
  name: 'warden_audit_exported_total',
  help: 'AuditEvents sent to the external audit repository, by result (sent or failed).',
  labelNames: ['result'],
});

// Made in workers too: that is what makes prom-client answer the supervisor's requests for their metrics.
const aggregator = new AggregatorRegistry();
const METRICS_REQUEST = 'warden:metrics';
const SUPERVISOR_TIMEOUT_MS = 5000;

/** This process's metrics, or, in a supervisor, every worker's summed (prom-client's cluster aggregation). */
export async function metricsText(): Promise<string> {
  if (cluster.isPrimary && Object.keys(cluster.workers ?? {}).length > 0) return (await aggregator.clusterMetrics()) as unknown as string;
  if (cluster.isWorker) return askSupervisor();
  return register.metrics();
}

export const METRICS_CONTENT_TYPE = register.contentType;

/** A worker answering /metrics asks the supervisor for the sum over all workers, so each scrape sees them all. */
function askSupervisor(): Promise<string> {
  return new Promise((resolve, reject) => {
    const id = Math.random().toString(36).slice(2);
    const onMessage = (message: { type?: string; id?: string; text?: string }) => {
      if (message?.type !== METRICS_REQUEST || message.id !== id) return;
      done();
      resolve(message.text ?? '');
    };
    const timeout = setTimeout(() => {
      done();
      reject(new Error('the supervisor did not send the metrics'));
    }, SUPERVISOR_TIMEOUT_MS);
    const done = () => {
      clearTimeout(timeout);
      process.off('message', onMessage);
    };
    process.on('message', onMessage);
    process.send!({ type: METRICS_REQUEST, id });
  });
}

/** In the supervisor: answers the workers' requests for the summed metrics. */
export function answerMetricsRequests(worker: { send(message: unknown): boolean; on(event: 'message', listener: (message: unknown) => void): unknown }): void {
  worker.on('message', (message) => {
    const request = message as { type?: string; id?: string };
    if (request?.type !== METRICS_REQUEST) return;
    // A worker that cannot be reached (dying, replaced) leaves the others' metrics unanswered: say so, empty.
    void metricsText().then(
      (text) => worker.send({ type: METRICS_REQUEST, id: request.id, text }),
      () => worker.send({ type: METRICS_REQUEST, id: request.id, text: '' }),
    );
  });
}
