// The whole receipt path in one test process, observed: a Temporal dev server, the receipt worker (Chromium,
// dispatcher) and an API whose receipt starts go to that server, the API's and the worker's /metrics servers,
// and the Temporal SDK's own Prometheus exporter. Call installObservedRuntime() before anything touches
// Temporal (the SDK's runtime is installed once per process).
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { createPool } from '../../src/db/pool.js';
import { apiRegistry, workerRegistry } from '../../src/metrics/names.js';
import { type MetricsServer, startMetricsServer } from '../../src/metrics/server.js';
import { findFreePort } from '../../src/net/free-port.js';
import { type ReceiptWorker, startReceiptWorker } from '../../src/receipts/receipt-worker.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { type ApiContext, createApiContext, testConfig } from './api.js';
import { descendants, isChromium, waitUntilGone } from './chromium.js';
import { memoryLogger, receiptConfig } from './receipt-worker.js';
import { startTestTemporal } from './temporal.js';

export interface ObservedStack {
  api: ApiContext;
  app: FastifyInstance;
  temporal: DevServer;
  worker: ReceiptWorker;
  log: ReturnType<typeof memoryLogger>;
  urls: { api: string; worker: string; temporalSdk: string };
  /** Stops everything and closes every pool; resolves to the Chromium processes left (none, normally). */
  stop(): Promise<unknown[]>;
}

/** Installs the SDK runtime with its Prometheus exporter on a free port; returns that /metrics URL. */
export async function installObservedRuntime(): Promise<string> {
  const port = await findFreePort();
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: {
      logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} },
      metrics: {
        prometheus: {
          bindAddress: `127.0.0.1:${port}`,
          countersTotalSuffix: true,
          unitSuffix: true,
          useSecondsForDurations: true,
        },
      },
    },
  });
  return `http://127.0.0.1:${port}/metrics`;
}

export async function startObservedStack(temporalSdkUrl: string): Promise<ObservedStack> {
  const api = await createApiContext();
  const temporal = await startTestTemporal();
  const log = memoryLogger();
  const worker = await startReceiptWorker({
    config: receiptConfig(temporal.address),
    databaseUrl: api.db.url,
    log,
  });
  // As the server's pool: receipt rows are born leased to the API, which starts them (see src/db/pool.ts).
  const pool = createPool({ url: api.db.url, max: 10, role: 'wallet_app', startsReceiptWorkflows: true });
  const app = await api.build({
    pool,
    receipts: undefined, // the real starter, to this Temporal
    config: { ...testConfig, temporalAddress: temporal.address },
  });
  const servers: MetricsServer[] = [
    await startMetricsServer(apiRegistry, '127.0.0.1', 0),
    await startMetricsServer(workerRegistry, '127.0.0.1', 0),
  ];
  // Called from the test file's own afterAll: vitest runs no afterAll registered inside a beforeAll (so the
  // database helpers' own cleanup never runs here), and every pool must be closed before PostgreSQL stops.
  const stop = async () => {
    const chromium = descendants(process.pid).filter(isChromium);
    await app.close();
    await worker.stop();
    await temporal.stop();
    await Promise.all(servers.map((s) => s.close()));
    await Promise.all([pool, api.pool, api.db.admin, api.db.app, api.db.worker].map((p) => p.end()));
    return waitUntilGone(chromium);
  };
  const [apiServer, workerServer] = servers as [MetricsServer, MetricsServer];
  return {
    api,
    app,
    temporal,
    worker,
    log,
    urls: { api: apiServer.url, worker: workerServer.url, temporalSdk: temporalSdkUrl },
    stop,
  };
}
