// Coalescing renders: receipts that arrive within a short window, or while every printer is busy, are printed
// together in one page.pdf() (one A4 page each) and split afterwards. A print costs Chromium about the same
// for one page as for twenty, so under load a receipt costs a fraction of a print. A batch that fails is
// printed again in halves, down to one receipt alone: a receipt that cannot be printed fails by itself, and
// its neighbours still get their PDFs.
import type { ReceiptDocument } from './receipt-document.js';

export interface CoalescerOptions {
  /** How long the first receipt of an idle renderer waits for company before printing. */
  windowMs: number;
  /** Receipts per print at most. */
  maxBatch: number;
  /** Prints at once (one per warm page). */
  printers: number;
  /** Prints `docs` and returns one PDF per document, in order; throws if it cannot. */
  printBatch: (docs: ReceiptDocument[]) => Promise<Buffer[]>;
  /** A failure that printing fewer receipts cannot cure (Chromium gone): fails the whole batch at once. */
  isFatal: (error: unknown) => boolean;
}

interface Request {
  doc: ReceiptDocument;
  alone: boolean;
  settled: boolean;
  resolve: (pdf: Buffer) => void;
  reject: (error: unknown) => void;
}

export class RenderCoalescer {
  private pending: Request[] = [];
  private timer: NodeJS.Timeout | undefined;
  private printing = 0;
  /** page.pdf() calls and the receipts they carried, since start (tests, bench). */
  readonly counts = { prints: 0, receipts: 0 };

  constructor(private readonly opts: CoalescerOptions) {}

  /** The receipt's one-page PDF. `alone`: print it in a print of its own (a retry after a failure). */
  render(doc: ReceiptDocument, { signal, alone = false }: { signal?: AbortSignal; alone?: boolean } = {}) {
    signal?.throwIfAborted();
    return new Promise<Buffer>((resolve, reject) => {
      const onAbort = () => {
        this.pending = this.pending.filter((r) => r !== request);
        request.reject(signal?.reason);
      };
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T) => {
          if (request.settled) return;
          request.settled = true;
          signal?.removeEventListener('abort', onAbort);
          fn(value);
        };
      const request: Request = {
        doc,
        alone,
        settled: false,
        resolve: settle(resolve),
        reject: settle(reject),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.push(request);
      if (alone || this.pending.length >= this.opts.maxBatch) this.kick();
      else this.timer ??= setTimeout(() => this.kick(), this.opts.windowMs);
    });
  }

  /** Fails every receipt still waiting (the renderer is closing). */
  failPending(error: Error): void {
    for (const request of this.pending.splice(0)) request.reject(error);
  }

  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.printing < this.opts.printers && this.pending.length > 0) {
      this.printing++;
      void this.printLoop();
    }
  }

  // A printer takes whatever arrived while it printed: the busier the renderer, the bigger its batches.
  private async printLoop(): Promise<void> {
    try {
      for (let batch = this.take(); batch.length > 0; batch = this.take()) await this.print(batch);
    } finally {
      this.printing--;
    }
  }

  private take(): Request[] {
    const head = this.pending[0];
    if (!head || head.alone) return this.pending.splice(0, 1);
    const batch: Request[] = [];
    const rest: Request[] = [];
    for (const r of this.pending) (r.alone || batch.length >= this.opts.maxBatch ? rest : batch).push(r);
    this.pending = rest;
    return batch;
  }

  private async print(batch: Request[]): Promise<void> {
    const live = batch.filter((r) => !r.settled);
    if (live.length === 0) return;
    try {
      this.counts.prints++;
      const pdfs = await this.opts.printBatch(live.map((r) => r.doc));
      this.counts.receipts += live.length;
      live.forEach((r, i) => {
        const pdf = pdfs[i];
        if (pdf) r.resolve(pdf);
        else r.reject(new Error(`no page printed for transaction ${r.doc.transactionId}`));
      });
    } catch (error) {
      if (live.length === 1 || this.opts.isFatal(error)) {
        for (const r of live) r.reject(error);
        return;
      }
      const half = Math.ceil(live.length / 2);
      await this.print(live.slice(0, half));
      await this.print(live.slice(half));
    }
  }
}
