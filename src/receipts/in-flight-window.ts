// Backpressure: at most `max` receipt workflows running at once; the rest wait in the outbox, where they cost
// nothing, instead of becoming thousands of workflows that compete with transfers for CPU. The bound is
// Temporal's own count of running receipt workflows (so a workflow it lost holds no place), asked once per
// recountMs while the estimate says something runs (an idle poll costs Temporal nothing). Between counts,
// starts add to the estimate. A render finished in this process does not free a place by itself (its workflow
// closes a few ms later): it makes the next poll ask Temporal again, at most every RECOUNT_SOON_MS.
import type { Client } from '@temporalio/client';
import { RECEIPT_WORKFLOW_TYPE } from '../temporal/start-receipt.js';
import { describeError, type Logger } from './log.js';
import { isTemporalUnavailable } from './temporal-errors.js';

const STALL_MS = 5 * 60_000;
const RECOUNT_SOON_MS = 100;

export interface WindowOptions {
  max: number;
  taskQueue: string;
  recountMs: number;
  timeoutMs: number;
  log: Logger;
  now: () => number;
}

export class InFlightWindow {
  private estimate: { running: number; countedAt: number } | undefined;
  private fullSince: number | undefined;
  private stallReported = false;
  private countRefused = false;
  private finishedSinceCount = false;

  constructor(private readonly opts: WindowOptions) {}

  /** The Temporal visibility query that counts the receipt workflows running now. */
  get query(): string {
    return (
      `WorkflowType = '${RECEIPT_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' ` +
      `AND TaskQueue = '${this.opts.taskQueue}'`
    );
  }

  /** Places free in the window. Throws when Temporal is unreachable (nothing could start anyway). */
  async room(temporal: () => Promise<Client>): Promise<number> {
    const { now } = this.opts;
    const age = this.estimate ? now() - this.estimate.countedAt : Number.POSITIVE_INFINITY;
    const due =
      !this.estimate ||
      (age >= this.opts.recountMs && this.estimate.running > 0) ||
      (age >= RECOUNT_SOON_MS && this.finishedSinceCount);
    if (!this.countRefused && due) {
      try {
        const client = await temporal();
        const { count } = await client.withDeadline(Date.now() + this.opts.timeoutMs, () =>
          client.workflow.count(this.query),
        );
        this.estimate = { running: count, countedAt: now() };
        this.finishedSinceCount = false;
      } catch (error) {
        if (isTemporalUnavailable(error)) throw error;
        // A server that cannot count (no advanced visibility) must not stop receipts: no window then.
        this.countRefused = true;
        this.opts.log.error(
          `cannot count running receipt workflows; starting without a window: ${describeError(error)}`,
        );
      }
    }
    if (this.countRefused) return Number.POSITIVE_INFINITY;
    const room = Math.max(0, this.opts.max - (this.estimate?.running ?? 0));
    this.watchForStall(room);
    return room;
  }

  started(n: number): void {
    if (this.estimate) this.estimate.running += n;
    else this.estimate = { running: n, countedAt: this.opts.now() };
  }

  /** A receipt finished in this process: ask Temporal again soon. */
  done(): void {
    this.finishedSinceCount = true;
  }

  /**
   * Receipt workflows retry failures forever, so a window filled with receipts that keep failing would hold
   * back every new one. That should not happen (a failure that cannot heal is non-retryable), but if the
   * window stays full for STALL_MS, say so once, where operators look.
   */
  private watchForStall(room: number): void {
    if (room > 0) {
      this.fullSince = undefined;
      this.stallReported = false;
      return;
    }
    this.fullSince ??= this.opts.now();
    if (!this.stallReported && this.opts.now() - this.fullSince >= STALL_MS) {
      this.stallReported = true;
      this.opts.log.error(
        `${this.opts.max} receipt workflows have been running for over ${STALL_MS / 60_000} min with none ` +
          'finishing: new receipts wait. Check the worker and the failing activities in the Temporal UI ' +
          '(or raise RECEIPT_MAX_IN_FLIGHT).',
      );
    }
  }
}
