// Every setting Warden reads, typed and read once. No other module touches process.env.
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';

export interface RootClientConfig {
  id: string;
  secret: string;
}

export interface Config {
  port: number;
  host: string;
  /** Public URL of this server; the base of every absolute link and the token issuer. */
  baseUrl: string;
  /** PostgreSQL connection string; when absent the embedded store is used. */
  databaseUrl?: string;
  /** Folder of the embedded store, or `memory://` for a store that lives only in memory. */
  dataDir: string;
  rootClient?: RootClientConfig;
  /** Password of the console's first administrator, User `adminUser` with Role `admin`; none is made without it. */
  adminPassword?: string;
  /** Id of that User: `warden-admin`, so Aidbox's examples that POST a User `admin` still work. */
  adminUser: string;
  /** Origins allowed by CORS; `true` allows any origin (no credentials are ever allowed with it). */
  corsOrigins: string[] | true;
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
  /** Deepest nesting of objects and arrays accepted in a request body. */
  maxBodyDepth: number;
  /**
   * Batch and transaction Bundles (POST /): their largest body in bytes and most entries. A Bundle is held in
   * memory whole while it is processed, so these bound the memory one request takes.
   */
  bundle: { bodyLimit: number; maxEntries: number };
  logLevel: string;
  /** How many scrypt computations may run at once, so they never take the whole libuv threadpool. */
  hashConcurrency: number;
  /** How long a login on Warden's own pages lasts, in seconds. */
  browserSessionSeconds: number;
  /** Algorithm of the key that signs access tokens (RS256 or ES256). */
  tokenSigningAlg: 'RS256' | 'ES256';
  /**
   * Failed authentications allowed per identity, and per address, in one throttle window; an address an
   * identity authenticated from in the last `knownAddressSeconds` is not held back by the identity's count.
   */
  throttle: { identityLimit: number; addressLimit: number; windowSeconds: number; knownAddressSeconds: number };
  /** Trust in tokens issued by other identity providers, configured by TokenIntrospector resources. */
  externalTokens: ExternalTokensConfig;
  /**
   * Development only: let jwks_uri and introspection endpoints be plain http (loopback included) or link-local
   * and cloud metadata addresses, which are refused otherwise (src/http/outbound-url.ts).
   */
  allowInsecureJwksUris: boolean;
  /** What is swept away, and how often: expired tokens, codes, counters, and Sessions past their retention. */
  sweep: SweepConfig;
  /**
   * Which reverse proxies' X-Forwarded-For/-Proto/-Host headers are believed, for the caller's address (throttling,
   * logs, policies), scheme and host: none (false), the last N hops, or proxies at these addresses or CIDR ranges.
   */
  trustProxy: false | number | string[];
  /**
   * Where GET /metrics is served: on the main port to authorized callers (no port), or on a port of its own,
   * open to whoever reaches `host`, for a scraper on a private network.
   */
  metrics: { port?: number; host: string };
  /** Server processes: 1, or this many workers under a supervisor (node:cluster), all on one port. */
  workers: number;
  /** How long a connection may take to send its request, or stay silent: slowloris (CWE-400) is cut off. */
  timeouts: TimeoutConfig;
  /**
   * Whether every create, update and patch of a FHIR resource is validated against the R4 base definitions and
   * the profiles it claims; off only for bulk loads of trusted data. `$validate` validates either way.
   */
  validateWrites: boolean;
  /** Bulk Data export ($export): how its jobs run and how long their output is kept. */
  bulkExport: BulkExportConfig;
  /** The audit trail of AuditEvents (src/audit/). */
  audit: AuditConfig;
}

export interface BulkExportConfig {
  /** Resources read and written per chunk: each is one query, one stored part of a file, one saved position. */
  chunkSize: number;
  /** A claimed job untouched this long is taken over by another process (or the restarted one). */
  leaseSeconds: number;
  /** How long a finished export's output may be downloaded, from its completion. */
  retentionSeconds: number;
  /** How often each process looks for a job to run (a kick-off in this process starts one at once). */
  pollMs: number;
  /** Whether this process runs export jobs; off for processes that only answer requests. */
  runJobs: boolean;
}

export interface AuditConfig {
  /** Whether AuditEvents are recorded at all. */
  enabled: boolean;
  /** A request waits for its events to be written, and fails (503) if they cannot be, instead of going on. */
  mandatory: boolean;
  /** Events waiting to be written, at most; past it new ones are dropped (logged and counted). */
  queueLimit: number;
  /** Events written in one transaction, at most. */
  batchSize: number;
  /** How long AuditEvents are kept, in days; 0 keeps them for ever. */
  retentionDays: number;
  /** An external audit repository (a FHIR server) that receives the events as `collection` Bundles. */
  exportUrl?: string;
  /** The Authorization header sent to it, if it needs one. */
  exportAuthorization?: string;
}

export interface TimeoutConfig {
  /** Whole request, headers and body, from its first byte; past it 408 and the connection is closed. */
  requestMs: number;
  /** The request line and headers; at most `requestMs`. */
  headersMs: number;
  /** An idle keep-alive connection between two requests. */
  keepAliveMs: number;
  /** A connection on which no byte moves either way, whatever it is doing. */
  idleMs: number;
}

export interface SweepConfig {
  /** Seconds between sweeps; 0 turns sweeping off. */
  intervalSeconds: number;
  /** How long an ended or expired Session (and its history) is kept, for audit, before it is deleted. */
  sessionRetentionSeconds: number;
}

export interface ExternalTokensConfig {
  /** Longest wait for a JWKS or introspection endpoint; past it the token is refused with 401. */
  timeoutMs: number;
  /** Clock difference tolerated on `exp`, `nbf` and `iat` of external tokens. */
  clockSkewSeconds: number;
  /** An unknown `kid` refetches a JWKS at most once per this interval, so random kids cannot flood the provider. */
  jwksRefetchIntervalSeconds: number;
}

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  // Decimal digits only: Number() would also take " " (as 0), "0x50" and "1e3".
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function resourceId(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(raw)) throw new ConfigError(`${name} must be a resource id (letters, digits, "-" and ".", at most 64), got "${raw.slice(0, 80)}"`);
  return raw;
}

function flag(env: Env, name: string, fallback = false): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function rootClient(env: Env): RootClientConfig | undefined {
  const id = env.WARDEN_ROOT_CLIENT_ID || env.BOX_ROOT_CLIENT_ID || 'root';
  const secret = env.WARDEN_ROOT_CLIENT_SECRET || env.BOX_ROOT_CLIENT_SECRET;
  return secret ? { id, secret } : undefined;
}

function corsOrigins(raw: string | undefined): string[] | true {
  if (raw === undefined || raw.trim() === '' || raw.trim() === '*') return true;
  return raw.split(',').map((origin) => origin.trim()).filter(Boolean);
}

function signingAlg(raw: string | undefined): 'RS256' | 'ES256' {
  if (raw === undefined || raw === '') return 'RS256';
  if (raw === 'RS256' || raw === 'ES256') return raw;
  throw new ConfigError(`WARDEN_TOKEN_SIGNING_ALG must be RS256 or ES256, got "${raw}"`);
}

function trustProxy(env: Env): false | number | string[] {
  const raw = env.WARDEN_TRUST_PROXY;
  if (raw === undefined || raw.trim() === '' || raw.trim() === '0') return false;
  if (/^\d+$/.test(raw)) return integer(env, 'WARDEN_TRUST_PROXY', 0, 1, 100);
  const ranges = raw.split(',').map((range) => range.trim()).filter(Boolean);
  for (const range of ranges) {
    const [address, prefix, extra] = range.split('/');
    const family = isIP(address);
    const maxPrefix = family === 6 ? 128 : 32;
    if (!family || extra !== undefined || (prefix !== undefined && !(/^\d+$/.test(prefix) && Number(prefix) <= maxPrefix))) {
      throw new ConfigError(`WARDEN_TRUST_PROXY must be a hop count or a list of addresses and CIDR ranges, got "${range}"`);
    }
  }
  return ranges;
}

/** Every core on PostgreSQL; one on the embedded store, which lives in one process's memory. */
function workers(env: Env): number {
  const embedded = !env.DATABASE_URL;
  const count = integer(env, 'WARDEN_WORKERS', embedded ? 1 : availableParallelism(), 1, 1024);
  if (embedded && count > 1) {
    throw new ConfigError('WARDEN_WORKERS must be 1 on the embedded store, which one process holds: set DATABASE_URL for more');
  }
  return count;
}

function timeouts(env: Env): TimeoutConfig {
  const requestMs = integer(env, 'WARDEN_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000);
  const headersMs = integer(env, 'WARDEN_HEADERS_TIMEOUT_MS', Math.min(10_000, requestMs), 100, 3_600_000);
  // Node refuses a headers timeout longer than the request's (http.createServer throws ERR_OUT_OF_RANGE).
  if (headersMs > requestMs) {
    throw new ConfigError(`WARDEN_HEADERS_TIMEOUT_MS (${headersMs}) must not exceed WARDEN_REQUEST_TIMEOUT_MS (${requestMs})`);
  }
  return {
    requestMs,
    headersMs,
    keepAliveMs: integer(env, 'WARDEN_KEEP_ALIVE_TIMEOUT_MS', 72_000, 100, 3_600_000),
    idleMs: integer(env, 'WARDEN_IDLE_TIMEOUT_MS', 120_000, 100, 3_600_000),
  };
}

function audit(env: Env): AuditConfig {
  const exportUrl = env.WARDEN_AUDIT_EXPORT_URL || undefined;
  if (exportUrl) {
    try {
      new URL(exportUrl);
    } catch {
      throw new ConfigError(`WARDEN_AUDIT_EXPORT_URL must be an absolute URL, got "${exportUrl.slice(0, 80)}"`);
    }
  }
  return {
    enabled: flag(env, 'WARDEN_AUDIT', true),
    mandatory: flag(env, 'WARDEN_AUDIT_MANDATORY'),
    queueLimit: integer(env, 'WARDEN_AUDIT_QUEUE_LIMIT', 10_000, 1, 10_000_000),
    batchSize: integer(env, 'WARDEN_AUDIT_BATCH_SIZE', 200, 1, 10_000),
    retentionDays: integer(env, 'WARDEN_AUDIT_RETENTION_DAYS', 0, 0, 36_500),
    exportUrl: exportUrl?.replace(/\/+$/, ''),
    exportAuthorization: env.WARDEN_AUDIT_EXPORT_AUTHORIZATION || undefined,
  };
}

export function loadConfig(env: Env = process.env): Config {
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const baseUrl = (env.WARDEN_BASE_URL || `http://localhost:${port}`).replace(/\/+$/, '');
  try {
    new URL(baseUrl);
  } catch {
    throw new ConfigError(`WARDEN_BASE_URL must be an absolute URL, got "${baseUrl}"`);
  }
  return {
    port,
    host: env.HOST || '0.0.0.0',
    baseUrl,
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.WARDEN_DATA_DIR || './data',
    rootClient: rootClient(env),
    adminPassword: env.WARDEN_ADMIN_PASSWORD || env.BOX_ADMIN_PASSWORD || undefined,
    adminUser: resourceId(env, 'WARDEN_ADMIN_USER', 'warden-admin'),
    corsOrigins: corsOrigins(env.WARDEN_CORS_ORIGINS),
    bodyLimit: integer(env, 'WARDEN_BODY_LIMIT', 1024 * 1024, 1024, 100 * 1024 * 1024),
    maxBodyDepth: integer(env, 'WARDEN_MAX_BODY_DEPTH', 64, 2, 1000),
    bundle: {
      bodyLimit: integer(env, 'WARDEN_BUNDLE_BODY_LIMIT', 32 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      maxEntries: integer(env, 'WARDEN_BUNDLE_MAX_ENTRIES', 5000, 1, 1_000_000),
    },
    logLevel: env.LOG_LEVEL || 'info',
    hashConcurrency: integer(env, 'WARDEN_HASH_CONCURRENCY', 2, 1, 64),
    browserSessionSeconds: integer(env, 'WARDEN_BROWSER_SESSION_SECONDS', 8 * 3600, 60, 30 * 24 * 3600),
    tokenSigningAlg: signingAlg(env.WARDEN_TOKEN_SIGNING_ALG),
    throttle: {
      identityLimit: integer(env, 'WARDEN_AUTH_FAILURES_PER_IDENTITY', 10, 1, 1_000_000),
      addressLimit: integer(env, 'WARDEN_AUTH_FAILURES_PER_ADDRESS', 100, 1, 1_000_000),
      windowSeconds: integer(env, 'WARDEN_AUTH_FAILURE_WINDOW', 900, 1, 86_400),
      knownAddressSeconds: integer(env, 'WARDEN_AUTH_KNOWN_ADDRESS_SECONDS', 30 * 86_400, 0, 365 * 86_400),
    },
    externalTokens: {
      timeoutMs: integer(env, 'WARDEN_EXTERNAL_TOKEN_TIMEOUT_MS', 2000, 100, 30_000),
      clockSkewSeconds: integer(env, 'WARDEN_EXTERNAL_TOKEN_CLOCK_SKEW', 30, 0, 300),
      jwksRefetchIntervalSeconds: integer(env, 'WARDEN_JWKS_REFETCH_INTERVAL', 30, 0, 3600),
    },
    allowInsecureJwksUris: flag(env, 'WARDEN_ALLOW_INSECURE_JWKS_URIS'),
    sweep: {
      intervalSeconds: integer(env, 'WARDEN_SWEEP_INTERVAL_SECONDS', 600, 0, 7 * 86_400),
      sessionRetentionSeconds: integer(env, 'WARDEN_SESSION_RETENTION_SECONDS', 7 * 86_400, 0, 3650 * 86_400),
    },
    trustProxy: trustProxy(env),
    metrics: {
      port: env.WARDEN_METRICS_PORT ? integer(env, 'WARDEN_METRICS_PORT', 0, 1, 65535) : undefined,
      host: env.WARDEN_METRICS_HOST || '127.0.0.1',
    },
    workers: workers(env),
    timeouts: timeouts(env),
    validateWrites: flag(env, 'WARDEN_VALIDATE_WRITES', true),
    bulkExport: {
      chunkSize: integer(env, 'WARDEN_EXPORT_CHUNK_SIZE', 2000, 1, 100_000),
      leaseSeconds: integer(env, 'WARDEN_EXPORT_LEASE_SECONDS', 60, 1, 86_400),
      retentionSeconds: integer(env, 'WARDEN_EXPORT_RETENTION_SECONDS', 86_400, 60, 365 * 86_400),
      pollMs: integer(env, 'WARDEN_EXPORT_POLL_MS', 2000, 10, 600_000),
      runJobs: flag(env, 'WARDEN_EXPORT_RUN_JOBS', true),
    },
    audit: audit(env),
  };
}
