// Backpressure: at most `max` receipts being started or rendered at once; the rest wait in the outbox, where
// they cost nothing, instead of becoming thousands of workflows that compete with transfers for CPU. The bound
// is the database's count of them, for every API and dispatcher (wallet.receipts_in_flight), asked once per
// recountMs while the estimate says something runs (an idle poll asks nothing). Between counts, starts add to
// the estimate. A render finished in this process makes the next poll count again, at most every
// RECOUNT_SOON_MS.
//
// The count used to be Temporal's own (a visibility query for running receipt workflows). The database's is
// consistent at once and covers receipts being started; the visibility store lags the workflows it counts, and
// each count cost the dev server 5.4 ms of CPU with 1,000 running (up to 10 counts a second while receipts
// finish: about 3 ms per receipt at 16 receipts/s).

const STALL_MS = 5 * 60_000;
const RECOUNT_SOON_MS = 100;

export interface WindowOptions {
  max: number;
  /** Receipts in flight now, as the database counts them. */
  count: () => Promise<number>;
  recountMs: number;
  log: { error(line: string): void };
  now: () => number;
}

export class InFlightWindow {
  private estimate: { running: number; countedAt: number } | undefined;
  private fullSince: number | undefined;
  private stallReported = false;
  private finishedSinceCount = false;

  constructor(private readonly opts: WindowOptions) {}

  /** Places free in the window. Throws when the count fails (the claim that follows would fail too). */
  async room(): Promise<number> {
    const { now } = this.opts;
    const age = this.estimate ? now() - this.estimate.countedAt : Number.POSITIVE_INFINITY;
    const due =
      !this.estimate ||
      (age >= this.opts.recountMs && this.estimate.running > 0) ||
      (age >= RECOUNT_SOON_MS && this.finishedSinceCount);
    if (due) {
      this.estimate = { running: await this.opts.count(), countedAt: now() };
      this.finishedSinceCount = false;
    }
    const room = Math.max(0, this.opts.max - (this.estimate?.running ?? 0));
    this.watchForStall(room);
    return room;
  }

  started(n: number): void {
    if (this.estimate) this.estimate.running += n;
    else this.estimate = { running: n, countedAt: this.opts.now() };
  }

  /** A receipt finished in this process: count again soon. */
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
        `${this.opts.max} receipts have been in flight for over ${STALL_MS / 60_000} min with none ` +
          'finishing: new receipts wait. Check the worker and the failing activities in the Temporal UI ' +
          '(or raise RECEIPT_MAX_IN_FLIGHT).',
      );
    }
  }
}
