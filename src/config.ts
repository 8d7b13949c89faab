// Configuration, validated once at start: a bad value stops the process with a message naming the variable.
// Every process (API, worker, CLI, `npm run dev`) reads the environment here and nowhere else.
import os from 'node:os';

/** Which process the configuration is for: the worker has its own role and a pool sized to its pages. */
export type ProcessKind = 'api' | 'worker';

export interface Config {
  databaseUrl: string | undefined; // undefined: start the embedded PostgreSQL
  databaseRole: string | undefined; // the role this process acts as (SET ROLE); undefined: the login's own
  embeddedPgPort: number;
  dataDir: string;
  host: string;
  port: number;
  logLevel: string;
  /** The Temporal SDK's own log level in the worker, apart from LOG_LEVEL (the SDK is chatty at debug). */
  temporalLogLevel: TemporalLogLevel;
  depositsEnabled: boolean;
  dbPoolSize: number;
  temporalAddress: string;
  temporalNamespace: string;
  /** TEMPORAL_ADDRESS was set: `npm run dev` uses that server and starts none. */
  temporalAddressGiven: boolean;
  /** Ports and binary of the dev server `npm run dev` starts otherwise. */
  temporalPort: number;
  temporalUiPort: number;
  temporalCliPath: string | undefined;
  receiptTaskQueue: string;
  chromiumPath: string | undefined;
  receiptPages: number;
  receiptSweepMs: number;
  receiptMaxInFlight: number;
  receiptWorkerNice: number;
  receiptRenderDelayMs: number;
  receiptMaxPerSecond: number; // 0: no cap
  receiptCoalesceMs: number;
  receiptBatchMax: number;
  /** Where /metrics listens (never on the API's port). Ports: 0 (the default) serves no metrics. */
  metricsHost: string;
  /** The API's prom-client metrics (METRICS_PORT). */
  metricsPort: number;
  /** The worker's own metrics: receipts, dispatcher, backlog (WORKER_METRICS_PORT). */
  workerMetricsPort: number;
  /** The Temporal SDK's metrics, served by the SDK's core in the worker process (TEMPORAL_METRICS_PORT). */
  temporalMetricsPort: number;
}

export const TEMPORAL_LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type TemporalLogLevel = (typeof TEMPORAL_LOG_LEVELS)[number];

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

const port = (env: Env, name: string, fallback: number) => integer(env, name, fallback, 1, 65535);

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

function oneOf(env: Env, name: string, fallback: string, allowed: string[]): string {
  const raw = env[name] || fallback;
  if (!allowed.includes(raw))
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw;
}

function url(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  try {
    new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL`); // never echo it: it may hold a password
  }
  return raw;
}

function roleName(env: Env, name: string, fallback: string): string | undefined {
  const raw = env[name] ?? fallback;
  if (raw === '') return undefined;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(raw))
    throw new ConfigError(`${name} must be a plain role name, got "${raw}"`);
  return raw;
}

function hostPort(env: Env, name: string, fallback: string): string {
  const raw = env[name] || fallback;
  if (!/^\S+:\d{1,5}$/.test(raw) || Number(raw.split(':').pop()) > 65535)
    throw new ConfigError(`${name} must be host:port, got "${raw}"`);
  return raw;
}

/** The configuration of one process, from `env` (process.env by default; tests pass their own). */
export function loadConfig(env: Env = process.env, kind: ProcessKind = 'api'): Config {
  const receiptPages = integer(env, 'RECEIPT_PAGES', Math.min(os.availableParallelism(), 8), 1, 32);
  const worker = kind === 'worker';
  return {
    databaseUrl: url(env, 'DATABASE_URL'),
    databaseRole: roleName(env, 'DATABASE_ROLE', worker ? 'wallet_worker' : 'wallet_app'),
    embeddedPgPort: port(env, 'EMBEDDED_PG_PORT', 54329),
    dataDir: env.WALLET_DATA_DIR || '.data',
    host: env.HOST || '127.0.0.1',
    port: integer(env, 'PORT', 3000, 0, 65535),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    temporalLogLevel: oneOf(env, 'TEMPORAL_LOG_LEVEL', 'warn', [...TEMPORAL_LOG_LEVELS]) as TemporalLogLevel,
    depositsEnabled: boolean(env, 'DEPOSITS_ENABLED', true),
    // The worker needs a connection per running activity plus the dispatcher's: twice its pages and a few.
    dbPoolSize: integer(env, 'DB_POOL_SIZE', worker ? receiptPages * 2 + 4 : 10, 1, 200),
    temporalAddress: hostPort(env, 'TEMPORAL_ADDRESS', '127.0.0.1:7233'),
    temporalNamespace: env.TEMPORAL_NAMESPACE || 'default',
    temporalAddressGiven: Boolean(env.TEMPORAL_ADDRESS),
    temporalPort: port(env, 'TEMPORAL_PORT', 7233),
    temporalUiPort: port(env, 'TEMPORAL_UI_PORT', 8233),
    temporalCliPath: env.TEMPORAL_CLI_PATH || undefined,
    receiptTaskQueue: env.RECEIPT_TASK_QUEUE || 'wallet-receipts',
    chromiumPath: env.CHROMIUM_PATH || undefined,
    receiptPages,
    // The dispatcher's longest wait between two polls of the outbox while idle (it polls faster while busy).
    receiptSweepMs: integer(env, 'RECEIPT_SWEEP_MS', 200, 20, 60_000),
    receiptMaxInFlight: integer(env, 'RECEIPT_MAX_IN_FLIGHT', 100, 1, 1_000_000),
    receiptMaxPerSecond: integer(env, 'RECEIPT_MAX_PER_SECOND', 0, 0, 100_000),
    receiptWorkerNice: integer(env, 'RECEIPT_WORKER_NICE', 10, 0, 19),
    receiptRenderDelayMs: integer(env, 'RECEIPT_RENDER_DELAY_MS', 0, 0, 600_000),
    // How long an idle renderer waits for more receipts to share a print, and how many one print may carry.
    receiptCoalesceMs: integer(env, 'RECEIPT_COALESCE_MS', 100, 0, 1000),
    receiptBatchMax: integer(env, 'RECEIPT_BATCH_MAX', 50, 1, 200),
    metricsHost: env.METRICS_HOST || '127.0.0.1',
    metricsPort: integer(env, 'METRICS_PORT', 0, 0, 65535),
    workerMetricsPort: integer(env, 'WORKER_METRICS_PORT', 0, 0, 65535),
    temporalMetricsPort: integer(env, 'TEMPORAL_METRICS_PORT', 0, 0, 65535),
  };
}
