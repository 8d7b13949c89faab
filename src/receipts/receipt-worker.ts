// The receipt worker: a Temporal worker for `receiptWorkflow`, `receiptBatchWorkflow` and their activities, one Chromium with warm
// pages, and the dispatcher that starts workflows for pending receipts. Used by src/worker.ts (the CLI), the
// dev runner and tests, which start it in-process.
import { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { resolveChromiumPath } from '../activities/chromium.js';
import { createActivities } from '../activities/index.js';
import { createReceiptRenderer, type ReceiptRenderer } from '../activities/renderer.js';
import type { Config } from '../config.js';
import { createPool } from '../db/pool.js';
import { trackPool } from '../metrics/pool.js';
import { trackDispatcher, trackReceiptBacklog } from '../metrics/receipts.js';
import { createStatementActivities } from '../statements/activities.js';
import { clientInterceptors } from '../telemetry/temporal.js';
import { connectTemporalClient } from '../temporal/client.js';
import { ReceiptDispatcher } from './dispatcher.js';
import { consoleLogger, counted, describeError, type Logger } from './log.js';
import { superviseWorker, workflowBundle } from './temporal-worker.js';

export { WORKFLOWS_PATH, workflowBundle } from './temporal-worker.js';

export type ReceiptWorkerConfig = Pick<
  Config,
  | 'temporalAddress'
  | 'temporalNamespace'
  | 'receiptTaskQueue'
  | 'chromiumPath'
  | 'receiptPages'
  | 'receiptSweepMs'
  | 'databaseRole'
  | 'dbPoolSize'
  | 'receiptMaxPerSecond'
> &
  Partial<Pick<Config, 'receiptCoalesceMs' | 'receiptBatchMax'>>;

export interface ReceiptWorkerOptions {
  config: ReceiptWorkerConfig;
  databaseUrl: string;
  /** Run the dispatcher in this process (default true). */
  dispatcher?: boolean;
  /** The dispatcher's window: receipts started and not yet stored, at once (default DEFAULT_MAX_IN_FLIGHT).
   *  It counts those of all workers and APIs (the database's count): with several workers, raise it. */
  maxInFlight?: number;
  /** Dispatcher starts ask for eager start, on a client sharing the worker's connection (measured in
   *  bench/receipts/eager-start.ts; off by default). */
  eagerStart?: boolean;
  /** TEST ONLY: see RendererOptions.renderDelayMs. */
  renderDelayMs?: number;
  /** TEST ONLY: see RendererOptions.failRender. */
  failRender?: (transactionId: number) => boolean;
  log?: Logger;
}

export interface ReceiptWorker {
  renderer: ReceiptRenderer;
  dispatcher: ReceiptDispatcher | undefined;
  /** Stops the dispatcher, drains running activities, closes Chromium and the pool. Idempotent. */
  stop(): Promise<void>;
}

/** Enough to keep one worker's pages busy through Temporal's latency, small enough to stay cheap. */
export const DEFAULT_MAX_IN_FLIGHT = 100;

export async function startReceiptWorker(opts: ReceiptWorkerOptions): Promise<ReceiptWorker> {
  const { config } = opts;
  const log = opts.log ?? consoleLogger();
  const renderer = createReceiptRenderer({
    executablePath: resolveChromiumPath(config.chromiumPath),
    pages: config.receiptPages,
    coalesceMs: config.receiptCoalesceMs,
    batchMax: config.receiptBatchMax,
    renderDelayMs: opts.renderDelayMs,
    failRender: opts.failRender,
    log: (m) => log.info(m),
  });
  // Sized and acting as configured (loadConfig(env, 'worker'): wallet_worker, twice the pages and a few).
  const pool = createPool({
    url: opts.databaseUrl,
    max: config.dbPoolSize,
    role: config.databaseRole,
    applicationName: 'wallet-receipt-worker',
  });
  pool.on('error', (error) => log.warn(`idle database connection failed: ${describeError(error)}`));
  trackPool('worker', pool); // pool gauges and the receipt backlog on WORKER_METRICS_PORT
  trackReceiptBacklog(pool);
  try {
    await renderer.start();
    await workflowBundle();
  } catch (error) {
    await renderer.close();
    await pool.end();
    throw error;
  }

  const temporal = opts.eagerStart ? workerClient(config, () => supervisor.connection()) : lazyClient(config);
  const dispatcher =
    opts.dispatcher === false
      ? undefined
      : new ReceiptDispatcher({
          pool,
          temporal: temporal.get,
          resetTemporal: temporal.close,
          taskQueue: config.receiptTaskQueue,
          idlePollMs: config.receiptSweepMs,
          maxPerSecond: config.receiptMaxPerSecond || undefined,
          eagerStart: opts.eagerStart,
          maxInFlight: opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
          log,
        });
  const activities = createActivities({ pool, renderer });
  const done = <T>(stored: T): T => {
    dispatcher?.receiptDone();
    return stored;
  };
  const supervisor = superviseWorker(
    config,
    {
      ...activities,
      // Statements (src/statements): same queue, same Chromium, printed through renderer.renderHtml.
      ...createStatementActivities({ pool, renderer }),
      // A finished receipt frees a place in the dispatcher's window: refill it now, not at the next sweep.
      printReceipt: (id) => activities.printReceipt(id).then(done),
      printReceiptAlone: (id) => activities.printReceiptAlone(id).then(done),
      printReceiptBatch: (batchId) => activities.printReceiptBatch(batchId).then(done),
      renderAndStoreReceipt: (doc) => activities.renderAndStoreReceipt(doc).then(done),
    },
    { pages: renderer.size, batchMax: config.receiptBatchMax ?? 50 },
    log,
  );
  if (dispatcher) trackDispatcher(dispatcher);
  dispatcher?.start();
  log.info(
    `receipt worker started: task queue ${config.receiptTaskQueue} on ${config.temporalAddress}, ` +
      `${renderer.size} Chromium pages, up to ${config.receiptBatchMax ?? 50} receipts a print${dispatcher ? ', dispatcher on' : ''}`,
  );

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await dispatcher?.stop(); // no new starts
      await supervisor.stop(); // running activities finish (or are cancelled after the grace time)
      await renderer.close();
      await temporal.close();
      await pool.end();
      const { prints, receipts } = renderer.counts;
      log.info(
        `receipt worker stopped (it printed ${counted(receipts, 'receipt')} in ${counted(prints, 'print')})`,
      );
    })();
    return stopping;
  };
  return { renderer, dispatcher, stop };
}

/** A client on the worker's own connection (eager start needs it): fails while the worker is not connected. */
function workerClient(config: ReceiptWorkerConfig, connection: () => NativeConnection | undefined) {
  let client: Client | undefined;
  return {
    get: async () => {
      const live = connection();
      if (!live) throw new Error('Temporal worker not connected yet');
      if (client?.connection !== live)
        client = new Client({
          connection: live,
          namespace: config.temporalNamespace,
          interceptors: clientInterceptors(),
        });
      return client;
    },
    close: async () => undefined, // the worker's supervisor owns the connection
  };
}

/** A Temporal client for the dispatcher, connected on first use, and again after a failure or a reset. */
function lazyClient(config: ReceiptWorkerConfig) {
  let client: Promise<Client> | undefined;
  return {
    get: () => {
      client ??= connectTemporalClient({
        address: config.temporalAddress,
        namespace: config.temporalNamespace,
      }).catch((error) => {
        client = undefined;
        throw error;
      });
      return client;
    },
    /** Closes the current connection (if any); the next get() dials again. */
    async close() {
      const closing = client;
      client = undefined;
      const c = await closing?.catch(() => undefined);
      await c?.connection.close().catch(() => undefined);
    },
  };
}
