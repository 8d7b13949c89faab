// Starts receipt workflows for pending receipts that have none: those made from psql, and those whose
// fast-path start by the API failed (Temporal down, API crashed right after COMMIT).
// One code path: a sweep claims unstarted receipts (FOR UPDATE SKIP LOCKED, so several dispatchers share the
// work), starts each workflow (idempotent: id receipt-<txid>), marks the started ones and commits. Sweeps run
// every sweepMs and, debounced, whenever `wallet_receipt_pending` is notified: a NOTIFY is a hint to sweep,
// never a per-id start, so a lost notification costs at most one sweep interval.
// Backpressure: with maxInFlight set, a sweep starts only as many workflows as keep the receipt workflows
// running in Temporal under that bound. A burst of transfers then waits in the outbox, where it costs
// nothing, instead of becoming thousands of workflows that compete with the transfers for CPU and fill the
// worker's cache. The bound is checked against Temporal's own count (so a workflow it lost holds no place),
// asked at most once a second: in between, starts add to the estimate and local completions take away.
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { ledger } from '../db/ledger.js';
import { RECEIPT_WORKFLOW_TYPE, startReceiptWorkflow } from '../temporal/start-receipt.js';
import { Listener } from './listener.js';
import { describeError, type Logger } from './log.js';
import { isTemporalUnavailable } from './temporal-errors.js';

export const RECEIPT_CHANNEL = 'wallet_receipt_pending';
const STALL_MS = 5 * 60_000;

export interface DispatcherOptions {
  /** Pool for the claims (the worker's, acting as wallet_app). */
  pool: pg.Pool;
  /** Connection string for the dedicated LISTEN connection. */
  listenUrl: string;
  /** The Temporal client; may reject while Temporal is down (retried on the next sweep). */
  temporal: () => Promise<Client>;
  /** Called when Temporal looks unreachable: drop the connection so the next sweep dials afresh instead of
   *  waiting out gRPC's reconnect backoff (which grows to minutes over a long outage). */
  resetTemporal?: () => Promise<void>;
  taskQueue: string;
  sweepMs: number;
  log: Logger;
  batchSize?: number;
  startConcurrency?: number;
  debounceMs?: number;
  /** Bound on one start call, so an outage costs a sweep seconds, not the SDK's full retry budget. */
  startTimeoutMs?: number;
  /** At most this many receipt workflows running at once; unlimited when omitted. */
  maxInFlight?: number;
  /** How often the window is checked against Temporal's count (default 1 s). */
  recountMs?: number;
}

export interface SweepResult {
  claimed: number;
  started: number;
  failed: number;
}

interface Claimed {
  transaction_id: number;
  sender_id: number | null;
  receiver_id: number;
  amount: string;
}

export class ReceiptDispatcher {
  private readonly batchSize: number;
  private readonly startConcurrency: number;
  private readonly debounceMs: number;
  private readonly startTimeoutMs: number;
  private stopped = true;
  private sweepTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private readonly listener: Listener;
  // Outage bookkeeping: each kind of trouble is logged once, and its end once.
  private temporalDown = false;
  private databaseDown = false;
  private readonly reported = new Set<string>();
  private inFlight: { running: number; countedAt: number } | undefined;
  private fullSince: number | undefined;
  /** Counters for operators and tests. */
  readonly stats = { sweeps: 0, started: 0, failedStarts: 0, windowFull: 0 };

  constructor(private readonly opts: DispatcherOptions) {
    this.batchSize = opts.batchSize ?? 100;
    this.startConcurrency = opts.startConcurrency ?? 8;
    this.debounceMs = opts.debounceMs ?? 25;
    this.startTimeoutMs = opts.startTimeoutMs ?? 5_000;
    this.listener = new Listener({
      url: opts.listenUrl,
      channel: RECEIPT_CHANNEL,
      onNotify: () => this.requestSweep(),
      // Notifications sent while nobody listened are lost: sweep for them.
      onConnected: () => this.requestSweep(),
      log: opts.log,
    });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.listener.start();
    this.sweepTimer = setInterval(() => this.requestSweep(), this.opts.sweepMs);
    this.requestSweep();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    clearTimeout(this.debounceTimer);
    await this.listener.stop();
    await this.running;
  }

  /** A receipt finished in this process: one more place in the window; refill it soon. */
  receiptDone(): void {
    if (this.inFlight) this.inFlight.running = Math.max(0, this.inFlight.running - 1);
    this.requestSweep();
  }

  /** Asks for a sweep soon; calls within the debounce window collapse into one. */
  requestSweep(): void {
    if (this.stopped || this.debounceTimer) return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      void this.sweep();
    }, this.debounceMs);
  }

  /** Runs sweeps until nothing claimable is left; a call during a sweep schedules one more after it. */
  sweep(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        for (;;) {
          const result = await this.sweepOnce();
          // A full batch that all went through means more may be waiting; anything less ends the round.
          if (this.stopped || result.claimed < this.batchSize || result.failed > 0) break;
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** One claim-start-mark-commit transaction. Never throws: failures are logged and retried later. */
  async sweepOnce(): Promise<SweepResult> {
    const result: SweepResult = { claimed: 0, started: 0, failed: 0 };
    this.stats.sweeps++;
    const room = await this.room();
    if (room === undefined) return { ...result, failed: 1 };
    if (room === 0) {
      this.stats.windowFull++; // the next NOTIFY, completion or timer sweeps again
      return result;
    }
    let db: pg.PoolClient;
    try {
      db = await this.opts.pool.connect();
    } catch (error) {
      this.trouble('database', `cannot reach the database; retrying every sweep: ${describeError(error)}`);
      return { ...result, failed: 1 };
    }
    let broken: Error | undefined;
    // The client stays checked out while workflows start; if PostgreSQL drops the connection meanwhile, pg
    // emits 'error' on it, and with no listener (the pool listens only to idle clients) the process dies.
    const onError = (error: Error) => {
      broken = error;
    };
    db.on('error', onError);
    try {
      await db.query('BEGIN');
      const { rows } = await db.query<Claimed>('SELECT * FROM wallet.claim_unstarted_receipts($1)', [room]);
      result.claimed = rows.length;
      const started = rows.length ? await this.startAll(rows, result) : [];
      if (started.length) await ledger.markReceiptsStarted(db, started);
      if (this.inFlight) this.inFlight.running += started.length;
      await db.query('COMMIT');
      result.started = started.length;
      this.stats.started += started.length;
      this.stats.failedStarts += result.failed;
      this.recovered('database', 'database reachable again');
      if (rows.length && result.failed === 0) this.reported.clear();
      return result;
    } catch (error) {
      broken = error as Error;
      await db.query('ROLLBACK').catch(() => undefined);
      this.trouble('database', `receipt sweep failed; retrying next sweep: ${describeError(error)}`);
      return { ...result, failed: result.failed + 1 };
    } finally {
      db.off('error', onError);
      db.release(broken); // a connection that failed mid-transaction is discarded, not reused
    }
  }

  /** How many workflows this sweep may start: a batch, or less when the in-flight window is nearly full.
   *  undefined: Temporal is unreachable (nothing can start anyway). */
  private async room(): Promise<number | undefined> {
    const max = this.opts.maxInFlight;
    if (max === undefined) return this.batchSize;
    const query =
      `WorkflowType = '${RECEIPT_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' ` +
      `AND TaskQueue = '${this.opts.taskQueue}'`;
    try {
      if (!this.inFlight || Date.now() - this.inFlight.countedAt >= (this.opts.recountMs ?? 1_000)) {
        const client = await this.opts.temporal();
        const { count } = await client.withDeadline(Date.now() + this.startTimeoutMs, () =>
          client.workflow.count(query),
        );
        this.inFlight = { running: count, countedAt: Date.now() };
      }
      const room = Math.max(0, Math.min(this.batchSize, max - this.inFlight.running));
      this.watchForStall(room, max);
      return room;
    } catch (error) {
      if (!isTemporalUnavailable(error)) {
        // A server that cannot count (no advanced visibility) must not stop receipts: no window then.
        this.once(
          'count',
          `cannot count running receipt workflows; starting without a window: ${describeError(error)}`,
        );
        return this.batchSize;
      }
      this.trouble(
        'temporal',
        `Temporal unreachable; receipts stay pending until it is back: ${describeError(error)}`,
      );
      await this.opts.resetTemporal?.();
      return undefined;
    }
  }

  /**
   * Receipt workflows retry failures forever, so a window filled with receipts that keep failing would hold
   * back every new one. That should not happen (a failure that cannot heal is non-retryable), but if the
   * window stays full for STALL_MS, say so once, where operators look.
   */
  private watchForStall(room: number, max: number): void {
    if (room > 0) {
      this.fullSince = undefined;
      this.reported.delete('stall');
      return;
    }
    this.fullSince ??= Date.now();
    if (Date.now() - this.fullSince >= STALL_MS) {
      this.once(
        'stall',
        `${max} receipt workflows have been running for over ${STALL_MS / 60_000} min with none finishing: ` +
          'new receipts wait. Check the worker and the failing activities in the Temporal UI ' +
          '(or raise RECEIPT_MAX_IN_FLIGHT).',
      );
    }
  }

  /** Starts the claimed workflows a few at a time; returns the ids that now have a workflow. */
  private async startAll(rows: Claimed[], result: SweepResult): Promise<number[]> {
    let client: Client;
    try {
      client = await this.opts.temporal();
    } catch (error) {
      result.failed = rows.length;
      this.trouble(
        'temporal',
        `Temporal unreachable; receipts stay pending until it is back: ${describeError(error)}`,
      );
      return [];
    }
    const started: number[] = [];
    for (let i = 0; i < rows.length; i += this.startConcurrency) {
      const chunk = rows.slice(i, i + this.startConcurrency);
      const outcomes = await Promise.allSettled(chunk.map((row) => this.startOne(client, row)));
      let unavailable = false;
      outcomes.forEach((outcome, k) => {
        const id = chunk[k]?.transaction_id;
        if (outcome.status === 'fulfilled' && id !== undefined) {
          started.push(id);
          return;
        }
        result.failed++;
        const reason = outcome.status === 'rejected' ? outcome.reason : undefined;
        if (isTemporalUnavailable(reason)) unavailable = true;
        else
          this.once(`start:${describeError(reason)}`, `cannot start receipt-${id}: ${describeError(reason)}`);
      });
      if (unavailable) {
        // The rest of the batch would fail the same way: stop, keep what started, retry on the next sweep.
        result.failed += rows.length - i - chunk.length;
        this.trouble('temporal', 'Temporal unreachable; receipts stay pending until it is back');
        await this.opts.resetTemporal?.();
        return started;
      }
    }
    if (started.length) this.recovered('temporal', 'Temporal reachable again; starting pending receipts');
    return started;
  }

  private startOne(client: Client, row: Claimed): Promise<unknown> {
    const receipt = {
      transactionId: row.transaction_id,
      senderId: row.sender_id,
      receiverId: row.receiver_id,
      amount: row.amount,
    };
    return client.withDeadline(Date.now() + this.startTimeoutMs, () =>
      startReceiptWorkflow(client, this.opts.taskQueue, receipt),
    );
  }

  private trouble(kind: 'temporal' | 'database', message: string): void {
    const down = kind === 'temporal' ? this.temporalDown : this.databaseDown;
    if (down) return;
    if (kind === 'temporal') this.temporalDown = true;
    else this.databaseDown = true;
    this.opts.log.warn(message);
  }

  private recovered(kind: 'temporal' | 'database', message: string): void {
    const down = kind === 'temporal' ? this.temporalDown : this.databaseDown;
    if (!down) return;
    if (kind === 'temporal') this.temporalDown = false;
    else this.databaseDown = false;
    this.opts.log.info(message);
  }

  private once(key: string, message: string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.opts.log.error(message);
  }
}
