// The dispatcher's pace (no NOTIFY to wake it): at once while claims come back full, every busyMs while there
// is work, doubling up to idleMs when idle (the most a transfer made in psql waits), at the rate cap's pace
// when capped, until a place frees when the window is full, and after a failure as long as its backoff says.

export interface SweepResult {
  claimed: number;
  started: number;
  failed: number;
  /** What bounded this sweep's claim, when not the batch size or the work available. */
  limitedBy?: 'window' | 'rate';
  /** After a failure: how long to wait before the next attempt. */
  retryInMs?: number;
}

export interface Pace {
  busyMs: number;
  idleMs: number;
  batchSize: number;
  /** Milliseconds until the rate cap allows the next start. */
  untilNextToken: () => number;
}

export class PollLoop {
  private stopped = true;
  private loop: Promise<void> | undefined;
  private wakeUp: () => void = () => {};
  private waitingForRoom = false;

  constructor(
    private readonly sweep: () => Promise<SweepResult>,
    private readonly pace: Pace,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp();
    await this.loop;
  }

  /** A place in the window may be free: poll now if that is what we wait for (never cuts a backoff short). */
  roomMayBeFree(): void {
    if (this.waitingForRoom) this.wakeUp();
  }

  private async run(): Promise<void> {
    const { busyMs, idleMs, batchSize } = this.pace;
    let idleWait = busyMs;
    while (!this.stopped) {
      const result = await this.sweep();
      let waitMs: number;
      if (result.retryInMs !== undefined) waitMs = result.retryInMs;
      else if (result.limitedBy === 'rate') waitMs = this.pace.untilNextToken();
      else if (result.limitedBy === 'window') waitMs = idleMs;
      else if (result.claimed >= batchSize) waitMs = 0;
      else if (result.claimed > 0) waitMs = busyMs;
      else waitMs = idleWait;
      this.waitingForRoom = result.limitedBy === 'window';
      idleWait = result.claimed > 0 ? busyMs : Math.min(idleMs, idleWait * 2);
      await this.sleep(waitMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
