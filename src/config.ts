// Configuration, validated once at start: a bad value stops the process with a message naming the variable.
import os from 'node:os';

export interface Config {
  databaseUrl: string | undefined; // undefined: start the embedded PostgreSQL
  databaseRole: string | undefined; // the role the API and worker act as (SET ROLE); undefined: the login's own
  embeddedPgPort: number;
  dataDir: string;
  host: string;
  port: number;
  logLevel: string;
  depositsEnabled: boolean;
  dbPoolSize: number;
  temporalAddress: string;
  temporalNamespace: string;
  receiptTaskQueue: string;
  chromiumPath: string | undefined;
  receiptPages: number;
  receiptSweepMs: number;
  receiptCoalesceMs: number;
  receiptBatchMax: number;
}

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

export function loadConfig(env: Env = process.env): Config {
  return {
    databaseUrl: url(env, 'DATABASE_URL'),
    databaseRole: roleName(env, 'DATABASE_ROLE', 'wallet_app'),
    embeddedPgPort: integer(env, 'EMBEDDED_PG_PORT', 54329, 1, 65535),
    dataDir: env.WALLET_DATA_DIR || '.data',
    host: env.HOST || '127.0.0.1',
    port: integer(env, 'PORT', 3000, 0, 65535),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    depositsEnabled: boolean(env, 'DEPOSITS_ENABLED', true),
    dbPoolSize: integer(env, 'DB_POOL_SIZE', 10, 1, 200),
    temporalAddress: env.TEMPORAL_ADDRESS || '127.0.0.1:7233',
    temporalNamespace: env.TEMPORAL_NAMESPACE || 'default',
    receiptTaskQueue: env.RECEIPT_TASK_QUEUE || 'wallet-receipts',
    chromiumPath: env.CHROMIUM_PATH || undefined,
    receiptPages: integer(env, 'RECEIPT_PAGES', Math.min(os.availableParallelism(), 8), 1, 32),
    receiptSweepMs: integer(env, 'RECEIPT_SWEEP_MS', 5000, 100, 3_600_000),
    // How long an idle renderer waits for more receipts to share a print, and how many one print may carry.
    receiptCoalesceMs: integer(env, 'RECEIPT_COALESCE_MS', 10, 0, 1000),
    receiptBatchMax: integer(env, 'RECEIPT_BATCH_MAX', 50, 1, 200),
  };
}
