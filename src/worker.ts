// `npm run worker`: the receipt worker and dispatcher (src/receipts/receipt-worker.ts) as a process.
// SIGTERM/SIGINT: stop the dispatcher, drain running activities, close Chromium, the pool and the database.
// Its settings (role, pool, RECEIPT_*) come from loadConfig(env, 'worker'): see src/config.ts and the README.
import os from 'node:os';
import { Runtime } from '@temporalio/worker';
import { ConfigError, loadConfig } from './config.js';
import { openOrJoinDatabase } from './db/database.js';
import { DatabaseStartError } from './db/embedded.js';
import { workerRegistry } from './metrics/names.js';
import { startMetricsServer } from './metrics/server.js';
import { onStopSignals } from './process/stop-signals.js';
import { consoleLogger, describeError } from './receipts/log.js';
import { startReceiptWorker } from './receipts/receipt-worker.js';
import { ensureMonthlyStatementsSchedule } from './statements/schedule.js';
import { startTracing } from './telemetry/tracing.js';
import { connectTemporalClient } from './temporal/client.js';
import { temporalRuntimeLogging } from './temporal/runtime-logging.js';
import {
  SearchAttributeSetupError,
  setUpReceiptSearchAttributes,
} from './temporal/search-attribute-setup.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env, 'worker');
  const delay = config.receiptRenderDelayMs;
  const nice = config.receiptWorkerNice;
  const log = consoleLogger(config.logLevel, 'worker');
  // Before Chromium starts: its processes inherit the priority.
  if (nice > 0) os.setPriority(Math.max(os.getPriority(), nice));
  // We order the shutdown ourselves (dispatcher first), so the SDK must not react to signals on its own.
  // The SDK's own lines follow TEMPORAL_LOG_LEVEL, not LOG_LEVEL (src/temporal/runtime-logging.ts).
  const { logger, coreFilter } = temporalRuntimeLogging(config.temporalLogLevel);
  Runtime.install({
    logger,
    telemetryOptions: {
      logging: { filter: { core: coreFilter, other: 'ERROR' }, forward: {} },
      ...temporalMetrics(config.metricsHost, config.temporalMetricsPort),
    },
    shutdownSignals: [],
  });
  const tracing = startTracing({ serviceName: 'wallet-worker' }); // only with an OTLP endpoint
  if (config.temporalMetricsPort)
    log.info(`Temporal SDK metrics on http://${config.metricsHost}:${config.temporalMetricsPort}/metrics`);
  const metrics = config.workerMetricsPort
    ? await startMetricsServer(workerRegistry, config.metricsHost, config.workerMetricsPort)
    : undefined;
  if (metrics) log.info(`worker metrics on ${metrics.url}`);
  if (delay) log.warn(`RECEIPT_RENDER_DELAY_MS=${delay}: every render is slowed down (a test-only setting)`);

  // Without the search attributes no receipt workflow can start: create them, or stop here saying why.
  await setUpReceiptSearchAttributes(
    { address: config.temporalAddress, namespace: config.temporalNamespace },
    log,
    connectTemporalClient,
  );
  await ensureMonthlyStatementsSchedule(config, log);
  const db = await openOrJoinDatabase(config, (line) => log.info(`postgres: ${line}`));
  let worker: Awaited<ReturnType<typeof startReceiptWorker>>;
  try {
    worker = await startReceiptWorker({
      config,
      databaseUrl: db.url,
      renderDelayMs: delay,
      maxInFlight: config.receiptMaxInFlight,
      log,
    });
  } catch (error) {
    await db.stop();
    throw error;
  }

  // A copy of the same signal (npm relays what a terminal or systemd also sent us) changes nothing; a later
  // one exits at once (`npm run dev`'s second Ctrl-C sends it), leaving running receipts to their retries.
  onStopSignals((kind, signal) => {
    if (kind === 'now') {
      log.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    log.info(`${signal}: shutting down (running receipts finish first)`);
    worker
      .stop()
      .then(() => metrics?.close())
      .then(() => tracing?.shutdown())
      .then(() => db.stop())
      .then(
        () => process.exit(0),
        (error) => {
          log.error(`shutdown failed: ${describeError(error)}`);
          process.exit(1);
        },
      );
  });
}

/** The SDK's own Prometheus exporter (task slots, polls, schedule-to-start latencies), in seconds and with
 *  _total on counters as Prometheus names them; it serves /metrics itself, on its own port. */
function temporalMetrics(host: string, port: number) {
  if (!port) return {};
  const bindAddress = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    metrics: {
      prometheus: { bindAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true },
    },
  };
}

main().catch((error) => {
  if (error instanceof ConfigError) console.error(`configuration error: ${error.message}`);
  else if (error instanceof SearchAttributeSetupError || error instanceof DatabaseStartError)
    console.error(`worker cannot start: ${error.message}`);
  else console.error(error);
  process.exit(1);
});
