// The Temporal side of the receipt worker: the workflow bundle, and a worker that is recreated with backoff
// if it fails (for instance after a long server outage), so the process outlives Temporal being away.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import type { ReceiptActivities } from '../activities/index.js';
import type { Config } from '../config.js';
import { activityInterceptors, workflowSpanSinks } from '../telemetry/temporal.js';
import { currentTracing } from '../telemetry/tracing.js';
import { loadWorkflowBundle } from '../temporal/workflow-bundle.js';
import { describeError, type Logger } from './log.js';

// Resolved next to this file with this file's own extension: src/workflows/index.ts under tsx and vitest,
// dist/workflows/index.js if the project is ever compiled.
export const WORKFLOWS_PATH = fileURLToPath(
  new URL(`../workflows/index${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

const WORKFLOW_TASK_POLLS = 10;
const RESTART_MIN_MS = 1_000;
const RESTART_MAX_MS = 10_000; // a worker waiting for Temporal polls again within 10 s of its return

const bundles = new Map<boolean, Promise<WorkflowBundle>>();

/** The workflow bundle: the one `npm run build` made, else built once per process (webpack takes seconds);
 *  with the tracing interceptor only while this process traces (src/temporal/workflow-bundle.ts says why). */
export function workflowBundle(): Promise<WorkflowBundle> {
  const traced = currentTracing() !== undefined;
  let bundle = bundles.get(traced);
  if (!bundle) {
    bundle = loadWorkflowBundle(WORKFLOWS_PATH, { traced }).catch((error) => {
      bundles.delete(traced);
      throw error;
    });
    bundles.set(traced, bundle);
  }
  return bundle;
}

/**
 * Runs the Temporal worker and recreates it if it fails (for instance after a long server outage), with
 * backoff. If the server is down at start, the worker comes up when it is back; the process stays alive.
 */
export function superviseWorker(
  config: Pick<Config, 'temporalAddress' | 'temporalNamespace' | 'receiptTaskQueue'>,
  activities: ReceiptActivities,
  renderer: { pages: number; batchMax: number },
  log: Logger,
) {
  let current: Worker | undefined;
  let live: NativeConnection | undefined; // the running worker's connection
  let stopped = false;
  let wake: () => void = () => {};

  const loop = (async () => {
    let delay = RESTART_MIN_MS;
    let down = false;
    while (!stopped) {
      let connection: NativeConnection | undefined;
      try {
        connection = await NativeConnection.connect({ address: config.temporalAddress });
        const worker = await Worker.create({
          connection,
          namespace: config.temporalNamespace,
          taskQueue: config.receiptTaskQueue,
          workflowBundle: await workflowBundle(),
          activities,
          interceptors: activityInterceptors(), // trace context into the activities
          sinks: workflowSpanSinks(),
          // A receipt's workflow task stays open while its local activity prints: enough tasks and local
          // activities to fill every page's print, while the next batch gathers. Ordinary activities are
          // the fallback path only (retries), printed one receipt at a time.
          maxConcurrentWorkflowTaskExecutions: renderer.pages * renderer.batchMax,
          maxConcurrentLocalActivityExecutions: renderer.pages * renderer.batchMax,
          // A receipt's first (and usually only) task always comes from the normal queue, never the sticky one:
          // by default only 2 of 10 pollers ask there, and a burst's tasks waited seconds for them (measured:
          // 2.5 to 6.5 s between scheduled and started with the worker's CPU half idle). Sticky polls are left
          // for the fallback activity's second task.
          maxConcurrentWorkflowTaskPolls: WORKFLOW_TASK_POLLS,
          nonStickyToStickyPollRatio: 0.8,
          maxConcurrentActivityTaskExecutions: renderer.pages * 2,
          // On shutdown, renders in flight get this long to finish before they are cancelled (and retried
          // elsewhere); the force time bounds a shutdown that hangs anyway.
          shutdownGraceTime: '30s',
          shutdownForceTime: '60s',
        });
        current = worker;
        live = connection;
        if (down) log.info('Temporal worker connected again');
        down = false;
        delay = RESTART_MIN_MS;
        const running = worker.run();
        if (stopped) worker.shutdown(); // stop() came while we were connecting
        await running;
        // A clean return means someone shut the worker down (us, or the SDK on a signal): do not restart.
        stopped = true;
      } catch (error) {
        if (!down && !stopped) log.warn(`Temporal worker not running, retrying: ${describeError(error)}`);
        down = true;
      } finally {
        current = undefined;
        live = undefined;
        await connection?.close().catch(() => undefined);
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      delay = Math.min(delay * 2, RESTART_MAX_MS);
    }
  })();

  return {
    /** The running worker's connection: a client on it can get eager workflow starts. */
    connection: () => live,
    async stop() {
      stopped = true;
      wake();
      const worker = current;
      if (worker && worker.getState() === 'RUNNING') worker.shutdown();
      await loop;
    },
  };
}
