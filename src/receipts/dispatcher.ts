// Starts receipt workflows for pending receipts that have none: those made from psql, and those whose
// fast-path start by the API failed (Temporal down, API crashed right after COMMIT).
// A claim is a lease committed at once (wallet.claim_receipts): the starts run outside any transaction, so
// they block neither store_receipt_pdf nor the API's mark; a failed start gives its lease back; the lease of
// a dispatcher that died runs out after leaseMs and another takes the receipts over. Starts are idempotent
// (id receipt-<txid>), so a receipt taken over after a start that did go through collapses into one run.
// The receipts of a batch transfer are claimed together and started as one workflow (receipt-batch-<id>);
// they count as receipts in the window and against the rate cap, so a batch of 100 takes 100 tokens (the
// bucket goes into debt, and the next start waits until it is paid back).
// No NOTIFY: the dispatcher polls the small receipts_pending index, quickly while it finds work and backing
// off to idlePollMs when idle, so a transfer made in psql waits at most idlePollMs for its start.
import { hostname } from 'node:os';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { ledger } from '../db/ledger.js';
import { dispatcherClaimed, dispatcherStarted } from '../metrics/names.js';
import { DispatcherHealth, type DispatcherState } from './dispatcher-health.js';
import { InFlightWindow } from './in-flight-window.js';
import { describeError, type Logger } from './log.js';
import { PollLoop, type SweepResult } from './poll-loop.js';
import { startClaimed } from './start-claimed.js';
import { isTemporalUnavailable } from './temporal-errors.js';
import { defaultBurst, TokenBucket } from './token-bucket.js';

export interface DispatcherOptions {
  /** Pool for the claims and marks (autocommit: no transaction is ever held). */
  pool: pg.Pool;
  /** The Temporal client; may reject while Temporal is down. */
  temporal: () => Promise<Client>;
  /** Called when Temporal looks unreachable: the next attempt dials afresh instead of waiting out gRPC's
   *  reconnect backoff (which grows to minutes over a long outage). */
  resetTemporal?: () => Promise<void>;
  taskQueue: string;
  log: Logger;
  /** Longest wait between two polls while idle (RECEIPT_SWEEP_MS); polls come faster while there is work. */
  idlePollMs: number;
  busyPollMs?: number;
  /** A claim's lease: how long a dispatcher that died keeps its receipts from the others. */
  leaseMs?: number;
  /** At most this many starts a second (token bucket, burst `burst`); uncapped when omitted. */
  maxPerSecond?: number;
  burst?: number;
  /** At most this many receipts being started or rendered at once; unlimited when omitted. */
  maxInFlight?: number;
  /** How often the window is checked against the database's count (default 1 s). */
  recountMs?: number;
  batchSize?: number;
  startConcurrency?: number;
  /** Bound on one start call, so an outage costs an attempt seconds, not the SDK's full retry budget. */
  startTimeoutMs?: number;
  backoff?: { minMs: number; maxMs: number };
  /** Ask for eager workflow start (the client must share the worker's connection to get it). */
  eagerStart?: boolean;
  /** Who claims: shows in wallet.receipts.claimed_by. */
  claimer?: string;
  /** The clock of the rate cap and the window (tests inject one). */
  now?: () => number;
}

export type { SweepResult } from './poll-loop.js';

export class ReceiptDispatcher {
  readonly claimer: string;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly bucket: TokenBucket | undefined;
  private readonly window: InFlightWindow | undefined;
  private readonly health: DispatcherHealth;
  private readonly loop: PollLoop;
  private halted = false; // stop() was called
  /** Counters for operators and tests. */
  readonly stats = {
    sweeps: 0,
    /** Receipts whose workflow was started (a batch's receipts share one). */
    started: 0,
    workflows: 0,
    startedEagerly: 0,
    failedStarts: 0,
    windowFull: 0,
    rateLimited: 0,
  };

  constructor(private readonly opts: DispatcherOptions) {
    const now = opts.now ?? Date.now;
    this.claimer = opts.claimer ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.batchSize = opts.batchSize ?? 100;
    this.leaseMs = opts.leaseMs ?? 15_000;
    this.health = new DispatcherHealth(opts.log, opts.backoff ?? { minMs: 250, maxMs: 10_000 });
    if (opts.maxPerSecond)
      this.bucket = new TokenBucket(opts.maxPerSecond, opts.burst ?? defaultBurst(opts.maxPerSecond), now);
    if (opts.maxInFlight !== undefined)
      this.window = new InFlightWindow({
        max: opts.maxInFlight,
        count: () => ledger.receiptsInFlight(opts.pool, this.leaseMs),
        recountMs: opts.recountMs ?? 1_000,
        log: opts.log,
        now,
      });
    this.loop = new PollLoop(() => this.sweepOnce(), {
      busyMs: opts.busyPollMs ?? 10,
      idleMs: opts.idlePollMs,
      batchSize: this.batchSize,
      untilNextToken: () => this.bucket?.msUntilNext() ?? 0,
    });
  }

  /** Starting, or failing with a reason (and when it tries again): for the worker's readiness report. */
  state(): DispatcherState | { status: 'stopped' } {
    return this.halted ? { status: 'stopped' } : this.health.state();
  }

  start(): void {
    this.halted = false;
    this.loop.start();
  }

  async stop(): Promise<void> {
    this.halted = true;
    await this.loop.stop();
  }

  /** A receipt finished in this process: one more place in the window; poll now. */
  receiptDone(): void {
    this.window?.done();
    this.loop.roomMayBeFree();
  }

  /** Sweeps until nothing more can be claimed now (for callers that want the outbox handled at once). */
  async sweep(): Promise<void> {
    for (;;) {
      const result = await this.sweepOnce();
      if (result.failed > 0 || result.limitedBy || result.claimed < this.batchSize) return;
    }
  }

  /** One claim (committed at once), its starts, then marks and releases. Never throws. */
  async sweepOnce(): Promise<SweepResult> {
    this.stats.sweeps++;
    let limit = this.batchSize;
    let limitedBy: SweepResult['limitedBy'];
    try {
      const room = (await this.window?.room()) ?? limit;
      if (room < limit) [limit, limitedBy] = [room, 'window'];
    } catch (error) {
      const retryInMs = this.health.failed('database', describeError(error));
      return { claimed: 0, started: 0, failed: 1, retryInMs };
    }
    const tokens = this.bucket?.available() ?? limit;
    if (tokens < limit) [limit, limitedBy] = [tokens, 'rate'];
    if (limit <= 0) {
      this.stats[limitedBy === 'rate' ? 'rateLimited' : 'windowFull']++;
      return { claimed: 0, started: 0, failed: 0, limitedBy };
    }
    let rows: Awaited<ReturnType<typeof ledger.claimReceipts>>;
    try {
      rows = await ledger.claimReceipts(this.opts.pool, this.claimer, limit, this.leaseMs);
    } catch (error) {
      const retryInMs = this.health.failed('database', describeError(error));
      return { claimed: 0, started: 0, failed: 1, retryInMs };
    }
    this.health.succeeded('database');
    if (rows.length === 0) return { claimed: 0, started: 0, failed: 0 };
    dispatcherClaimed.inc(rows.length);
    const claimedAt = Date.now();
    this.bucket?.take(rows.length);
    let client: Client;
    try {
      client = await this.opts.temporal();
    } catch (error) {
      await this.release(rows.map((r) => r.transaction_id));
      return this.temporalDown(error, rows.length);
    }
    let batchMembers: Map<number, number[]> | undefined;
    const batchIds = [...new Set(rows.flatMap((r) => (r.batch_id === null ? [] : [r.batch_id])))];
    if (batchIds.length > 0) {
      try {
        const members = await ledger.receiptBatchMembers(this.opts.pool, batchIds);
        batchMembers = new Map(members.map((m) => [m.batchId, m.transactionIds]));
      } catch (error) {
        await this.release(rows.map((r) => r.transaction_id));
        const retryInMs = this.health.failed('database', describeError(error));
        return { claimed: rows.length, started: 0, failed: rows.length, retryInMs };
      }
    }
    const outcome = await startClaimed(rows, {
      batchMembers,
      client,
      taskQueue: this.opts.taskQueue,
      concurrency: this.opts.startConcurrency ?? 8,
      timeoutMs: this.opts.startTimeoutMs ?? 5_000,
      eager: this.opts.eagerStart ?? false,
      startBy: claimedAt + this.leaseMs / 2,
    });
    await this.mark(outcome.started);
    await this.release(outcome.notStarted);
    this.window?.started(outcome.started.length);
    this.stats.started += outcome.started.length;
    this.stats.workflows += outcome.workflows;
    dispatcherStarted.inc(outcome.started.length);
    this.stats.startedEagerly += outcome.eager;
    this.stats.failedStarts += outcome.notStarted.length;
    const result = {
      claimed: rows.length,
      started: outcome.started.length,
      failed: outcome.notStarted.length,
    };
    if (outcome.error?.unavailable)
      return this.temporalDown(outcome.error.cause, rows.length, result.started);
    if (outcome.error) {
      const retryInMs = this.health.failed('start', describeError(outcome.error.cause));
      return { ...result, retryInMs };
    }
    if (result.started > 0) this.health.succeeded('temporal', 'start');
    return { ...result, limitedBy: rows.length < limit ? undefined : limitedBy };
  }

  private async temporalDown(error: unknown, claimed: number, started = 0): Promise<SweepResult> {
    const retryInMs = this.health.failed(
      isTemporalUnavailable(error) ? 'temporal' : 'start',
      describeError(error),
    );
    if (isTemporalUnavailable(error)) await this.opts.resetTemporal?.();
    return { claimed, started, failed: Math.max(1, claimed - started), retryInMs };
  }

  private async mark(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    // If this fails, the leases run out and the receipts are started again: absorbed by the workflow id.
    await ledger.markReceiptsStarted(this.opts.pool, ids).catch((error) => {
      this.health.failed('database', describeError(error));
    });
  }

  private async release(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await ledger.releaseReceipts(this.opts.pool, this.claimer, ids).catch((error) => {
      this.health.failed('database', describeError(error));
    });
  }
}
