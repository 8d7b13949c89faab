// Starting receipt workflows right after a commit, without ever letting Temporal fail or slow a transfer: each
// start waits a short bounded time, and a circuit breaker skips starts for a while after a failed or slow one
// (then lets one probe through). A receipt whose start was skipped stays pending; the worker's dispatcher
// sweep starts it later.
import type { Client } from '@temporalio/client';
import { describeStartFailure } from '../temporal/start-failure.js';
import { type ReceiptStart, startReceiptWorkflow } from '../temporal/start-receipt.js';

export type ReceiptOutcome = 'started' | 'pending';

/** Whether this process's own workflow starts succeed; when not, why (for /ready). */
export interface StartState {
  state: 'starting' | 'not_starting' | 'disabled';
  reason: string | null;
}

export interface ReceiptStarter {
  /** Resolves within the configured bound and never rejects. */
  start(receipt: ReceiptStart): Promise<ReceiptOutcome>;
  health(): Promise<'up' | 'down' | 'disabled'>;
  startState(): StartState;
  close(): Promise<void>;
}

interface Log {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface TemporalStarterOptions {
  /** Called lazily, on the first start; again after a failed connect. */
  connect: () => Promise<Client>;
  taskQueue: string;
  /** Called when a start succeeds, even one that finished after the request stopped waiting. */
  onStarted: (transactionId: number) => void;
  log: Log;
  waitMs?: number;
  openMs?: number;
  /** Deadline for one start in the background, so a hung server never piles up calls. */
  deadlineMs?: number;
  now?: () => number;
  /** Seams for tests: how a start and a health check talk to the server. */
  launch?: (client: Client, receipt: ReceiptStart) => Promise<unknown>;
  check?: (client: Client) => Promise<unknown>;
}

/** For an API without Temporal: every receipt stays pending for the dispatcher. */
export const noReceiptStarter: ReceiptStarter = {
  start: async () => 'pending',
  health: async () => 'disabled',
  startState: () => ({ state: 'disabled', reason: null }),
  close: async () => undefined,
};

function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function createTemporalReceiptStarter(opts: TemporalStarterOptions): ReceiptStarter {
  const waitMs = opts.waitMs ?? 300;
  const openMs = opts.openMs ?? 5000;
  const deadlineMs = opts.deadlineMs ?? 10_000;
  const now = opts.now ?? Date.now;
  const launch =
    opts.launch ??
    ((client: Client, receipt: ReceiptStart) =>
      client.connection.withDeadline(Date.now() + deadlineMs, () =>
        startReceiptWorkflow(client, opts.taskQueue, receipt),
      ));
  const check =
    opts.check ??
    ((client: Client) =>
      client.connection.withDeadline(Date.now() + 1000, () => client.workflowService.getSystemInfo({})));

  let client: Promise<Client> | undefined;
  let openUntil = 0; // 0: closed; otherwise starts are skipped until then
  let probing = false;
  let closed = false;

  const getClient = () => {
    client ??= opts.connect().catch((error) => {
      client = undefined;
      throw error;
    });
    return client;
  };

  let lastError: unknown;
  let failing: string | null = null; // why starts are paused, while they are

  async function attempt(receipt: ReceiptStart): Promise<boolean> {
    try {
      await launch(await getClient(), receipt);
      opts.onStarted(receipt.transactionId);
      return true;
    } catch (error) {
      lastError = error;
      opts.log.debug({ err: error, transactionId: receipt.transactionId }, 'receipt workflow start failed');
      return false;
    }
  }

  function pause(outcome: boolean | 'timeout') {
    failing = describeStartFailure(outcome === 'timeout' ? 'timeout' : lastError);
    if (openUntil === 0) {
      const reason = outcome === 'timeout' ? 'slow' : 'failed';
      opts.log.warn(
        { err: lastError, reason, openMs },
        'receipt workflow starts paused: Temporal is unavailable',
      );
    }
    openUntil = now() + openMs;
  }

  return {
    async start(receipt) {
      if (closed || probing || now() < openUntil) return 'pending';
      if (openUntil !== 0) {
        // The pause is over: one probe, in the background, so no request waits on a Temporal that may be down.
        probing = true;
        void within(attempt(receipt), waitMs).then((outcome) => {
          probing = false;
          if (outcome !== true) return pause(outcome);
          opts.log.info({}, 'Temporal is back: receipt workflows start again');
          openUntil = 0;
          failing = null;
        });
        return 'pending';
      }
      const outcome = await within(attempt(receipt), waitMs);
      if (outcome === true) return 'started';
      pause(outcome);
      return 'pending';
    },

    async health() {
      if (now() < openUntil) return 'down';
      try {
        const result = await within(
          getClient().then((c) => check(c)),
          1000,
        );
        return result === 'timeout' ? 'down' : 'up';
      } catch {
        return 'down';
      }
    },

    startState() {
      return failing === null
        ? { state: 'starting', reason: null }
        : { state: 'not_starting', reason: failing };
    },

    async close() {
      closed = true;
      const pending = client;
      client = undefined;
      if (!pending) return;
      // A connect still in progress is closed when it lands; shutdown does not wait out its timeout.
      const closing = pending.then(
        (c) => c.connection.close(),
        () => undefined,
      );
      await within(
        closing.catch(() => undefined),
        500,
      );
    },
  };
}
