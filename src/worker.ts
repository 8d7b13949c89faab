// `npm run worker`: the receipt worker and dispatcher (src/receipts/receipt-worker.ts) as a process.
// SIGTERM/SIGINT: stop the dispatcher, drain running activities, close Chromium, the pool and the database.
//
// Besides the configuration of src/config.ts it reads:
//   RECEIPT_WORKER_NICE      CPU niceness of the worker and its Chromium (0-19, default 10). Receipts are
//                            background work: where the worker shares cores with PostgreSQL, transfers come
//                            first. Irrelevant (and harmless) on a machine of its own. 0 leaves it alone.
//   RECEIPT_MAX_IN_FLIGHT    receipt workflows the dispatcher keeps running at once (default 100); the rest
//                            wait in the outbox. It counts all workers: with several, raise it (~50 each).
//   RECEIPT_RENDER_DELAY_MS  TEST ONLY: hold each receipt page this long before printing (default 0), so a
//                            test can kill the worker in the middle of a render. Never set it in production.
import os from 'node:os';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { consoleLogger, describeError } from './receipts/log.js';
import { DEFAULT_MAX_IN_FLIGHT, startReceiptWorker } from './receipts/receipt-worker.js';

function wholeNumber(name: string, fallback: number, max: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

async function main(): Promise<void> {
  const config = loadConfig();
  const delay = wholeNumber('RECEIPT_RENDER_DELAY_MS', 0, 600_000);
  const nice = wholeNumber('RECEIPT_WORKER_NICE', 10, 19);
  const maxInFlight = wholeNumber('RECEIPT_MAX_IN_FLIGHT', DEFAULT_MAX_IN_FLIGHT, 1_000_000, 1);
  const log = consoleLogger(config.logLevel, 'worker');
  // Before Chromium starts: its processes inherit the priority.
  if (nice > 0) os.setPriority(Math.max(os.getPriority(), nice));
  // We order the shutdown ourselves (dispatcher first), so the SDK must not react to signals on its own.
  // SDK warnings say why an attempt failed (useful); the core's own warn on every retried poll during a
  // Temporal outage (noise: the dispatcher and supervisor already report an outage once).
  const debug = config.logLevel === 'debug' || config.logLevel === 'trace';
  Runtime.install({
    logger: new DefaultLogger(debug ? 'DEBUG' : 'WARN'),
    telemetryOptions: {
      logging: { filter: { core: debug ? 'DEBUG' : 'ERROR', other: 'ERROR' }, forward: {} },
    },
    shutdownSignals: [],
  });
  if (delay) log.warn(`RECEIPT_RENDER_DELAY_MS=${delay}: every render is slowed down (a test-only setting)`);

  const db = await openDatabase(config, (line) => log.info(`postgres: ${line}`));
  let worker: Awaited<ReturnType<typeof startReceiptWorker>>;
  try {
    worker = await startReceiptWorker({
      config,
      databaseUrl: db.url,
      renderDelayMs: delay,
      maxInFlight,
      log,
    });
  } catch (error) {
    await db.stop();
    throw error;
  }

  let signalled = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    signalled = true;
    log.info(`${signal}: shutting down (running receipts finish first)`);
    worker
      .stop()
      .then(() => db.stop())
      .then(
        () => process.exit(0),
        (error) => {
          log.error(`shutdown failed: ${describeError(error)}`);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error);
  process.exit(1);
});
