// One validated configuration for every process: what each variable becomes, and a clear error for a bad one.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { temporalRuntimeLogging } from '../src/temporal/runtime-logging.js';

describe('loadConfig', () => {
  it('gives the API and the worker their own role and pool size by default', () => {
    const api = loadConfig({ RECEIPT_PAGES: '4' });
    const worker = loadConfig({ RECEIPT_PAGES: '4' }, 'worker');
    expect(api).toMatchObject({ databaseRole: 'wallet_app', dbPoolSize: 10 });
    expect(worker).toMatchObject({ databaseRole: 'wallet_worker', dbPoolSize: 12 }); // 2 x 4 pages + 4
  });

  it('passes DATABASE_ROLE and DB_POOL_SIZE to the worker as set', () => {
    const worker = loadConfig({ DATABASE_ROLE: 'receipts_login', DB_POOL_SIZE: '17' }, 'worker');
    expect(worker).toMatchObject({ databaseRole: 'receipts_login', dbPoolSize: 17 });
    expect(loadConfig({ DATABASE_ROLE: '' }, 'worker').databaseRole).toBeUndefined();
  });

  it('reads the receipt and dev-server settings', () => {
    const config = loadConfig({
      RECEIPT_MAX_IN_FLIGHT: '40',
      RECEIPT_WORKER_NICE: '0',
      RECEIPT_RENDER_DELAY_MS: '250',
      TEMPORAL_PORT: '17233',
      TEMPORAL_UI_PORT: '18233',
      TEMPORAL_CLI_PATH: '/opt/temporal',
      TEMPORAL_ADDRESS: 'temporal:7233',
    });
    expect(config).toMatchObject({
      receiptMaxInFlight: 40,
      receiptWorkerNice: 0,
      receiptRenderDelayMs: 250,
      temporalPort: 17233,
      temporalUiPort: 18233,
      temporalCliPath: '/opt/temporal',
      temporalAddress: 'temporal:7233',
      temporalAddressGiven: true,
    });
    expect(loadConfig({})).toMatchObject({
      receiptMaxInFlight: 100,
      receiptWorkerNice: 10,
      receiptRenderDelayMs: 0,
      temporalPort: 7233,
      temporalUiPort: 8233,
      temporalCliPath: undefined,
      temporalAddress: '127.0.0.1:7233',
      temporalAddressGiven: false,
    });
  });

  it('serves no metrics unless a metrics port is set, and then on loopback unless METRICS_HOST says', () => {
    expect(loadConfig({})).toMatchObject({
      metricsHost: '127.0.0.1',
      metricsPort: 0,
      workerMetricsPort: 0,
      temporalMetricsPort: 0,
    });
    const env = { METRICS_HOST: '0.0.0.0', METRICS_PORT: '9464', WORKER_METRICS_PORT: '9465' };
    expect(loadConfig({ ...env, TEMPORAL_METRICS_PORT: '9466' }, 'worker')).toMatchObject({
      metricsHost: '0.0.0.0',
      metricsPort: 9464,
      workerMetricsPort: 9465,
      temporalMetricsPort: 9466,
    });
  });

  it('keeps the Temporal SDK at its own level: LOG_LEVEL=debug does not turn on its debug output', () => {
    expect(loadConfig({}, 'worker').temporalLogLevel).toBe('warn');
    expect(loadConfig({ LOG_LEVEL: 'debug' }, 'worker')).toMatchObject({
      logLevel: 'debug',
      temporalLogLevel: 'warn',
    });
    expect(loadConfig({ TEMPORAL_LOG_LEVEL: 'debug' }, 'worker').temporalLogLevel).toBe('debug');
  });

  it('maps TEMPORAL_LOG_LEVEL to the SDK logger and the core filter (the core stays quiet at warn)', () => {
    const at = (level: Parameters<typeof temporalRuntimeLogging>[0]) => {
      const { logger, coreFilter } = temporalRuntimeLogging(level);
      return { sdk: (logger as unknown as { level: string }).level, coreFilter };
    };
    expect(at('warn')).toEqual({ sdk: 'WARN', coreFilter: 'ERROR' });
    expect(at('info')).toEqual({ sdk: 'INFO', coreFilter: 'INFO' });
    expect(at('debug')).toEqual({ sdk: 'DEBUG', coreFilter: 'DEBUG' });
    expect(at('error')).toEqual({ sdk: 'ERROR', coreFilter: 'ERROR' });
  });

  it.each([
    ['METRICS_PORT', '94x4', 'METRICS_PORT must be a whole number from 0 to 65535, got "94x4"'],
    [
      'WORKER_METRICS_PORT',
      '70000',
      'WORKER_METRICS_PORT must be a whole number from 0 to 65535, got "70000"',
    ],
    ['TEMPORAL_METRICS_PORT', '-1', 'TEMPORAL_METRICS_PORT must be a whole number from 0 to 65535, got "-1"'],
    [
      'TEMPORAL_LOG_LEVEL',
      'verbose',
      'TEMPORAL_LOG_LEVEL must be one of trace, debug, info, warn, error, got "verbose"',
    ],
    ['TEMPORAL_PORT', '72x3', 'TEMPORAL_PORT must be a whole number from 1 to 65535, got "72x3"'],
    ['TEMPORAL_UI_PORT', '99999', 'TEMPORAL_UI_PORT must be a whole number from 1 to 65535, got "99999"'],
    ['EMBEDDED_PG_PORT', '5432 ', 'EMBEDDED_PG_PORT must be a whole number from 1 to 65535, got "5432 "'],
    ['PORT', '-1', 'PORT must be a whole number from 0 to 65535, got "-1"'],
    ['DB_POOL_SIZE', '0', 'DB_POOL_SIZE must be a whole number from 1 to 200, got "0"'],
    ['RECEIPT_WORKER_NICE', '20', 'RECEIPT_WORKER_NICE must be a whole number from 0 to 19, got "20"'],
    [
      'RECEIPT_MAX_IN_FLIGHT',
      '1e3',
      'RECEIPT_MAX_IN_FLIGHT must be a whole number from 1 to 1000000, got "1e3"',
    ],
    ['TEMPORAL_ADDRESS', 'localhost', 'TEMPORAL_ADDRESS must be host:port, got "localhost"'],
    ['DATABASE_ROLE', 'Wallet App', 'DATABASE_ROLE must be a plain role name, got "Wallet App"'],
  ])('refuses %s=%j with a message naming it', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new ConfigError(message));
    expect(() => loadConfig({ [name]: value }, 'worker')).toThrow(ConfigError);
  });
});
