// Receipt PDFs, printed on the warm Chromium pages of page-pool.ts. render() goes through the coalescer
// (coalescer.ts): receipts arriving together are printed as consecutive A4 pages of one page.pdf() and split
// by qpdf (split-pdf.ts); a print that does not come out as one page per receipt is printed again in smaller
// batches. Values are HTML-escaped by receipt-template.ts.
import { measurePrint } from '../metrics/receipts.js';
import { RenderCoalescer } from './coalescer.js';
import { ChromiumPagePool, type PagePoolOptions, RendererUnavailableError } from './page-pool.js';
import type { ReceiptDocument } from './receipt-document.js';
import { receiptsHtml } from './receipt-template.js';
import { QPDF_PATH, splitPages } from './split-pdf.js';

export { pagesFor, RendererUnavailableError } from './page-pool.js';

export interface ReceiptRenderer {
  /** Launches Chromium and opens the warm pages (render() would do it lazily). */
  start(): Promise<void>;
  /** The receipt's PDF, printed together with the receipts that arrive with it (`alone`: in a print of its
   *  own, as a retry after a failure does). */
  render(doc: ReceiptDocument, opts?: { signal?: AbortSignal; alone?: boolean }): Promise<Buffer>;
  /** Prints arbitrary HTML under the same protections (no JavaScript, no network); render() uses it.
   *  timeoutMs: this print's bound instead of the renderer's (a long statement is hundreds of pages). */
  renderHtml(html: string, opts?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Buffer>;
  /** Closes the browser; renders in flight fail. Idempotent. */
  close(): Promise<void>;
  /** How many pages render at once. */
  readonly size: number;
  /** Renders holding a page right now. */
  readonly busy: number;
  /** The Chromium main process id while one runs (tests and memory sampling). */
  browserPid(): number | undefined;
  /** page.pdf() calls made for receipts, and the receipts they carried. */
  readonly counts: { prints: number; receipts: number };
}

/** The page pool's options (pages: config.receiptPages) and the receipts' own. */
export interface RendererOptions extends PagePoolOptions {
  /** How long a receipt waits for others to share its print (config.receiptCoalesceMs). */
  coalesceMs?: number;
  /** Receipts per print at most (config.receiptBatchMax). */
  batchMax?: number;
  qpdfPath?: string;
  /** TEST ONLY: asked for every receipt of every print; true fails that print as if the receipt's document
   *  could not be printed. Undefined in production. */
  failRender?: (transactionId: number) => boolean;
}

export function createReceiptRenderer(opts: RendererOptions): ReceiptRenderer {
  return new ChromiumReceiptRenderer(opts);
}

class ChromiumReceiptRenderer implements ReceiptRenderer {
  private readonly pool: ChromiumPagePool;
  private readonly log: (message: string) => void;
  private readonly coalescer: RenderCoalescer;

  constructor(private readonly opts: RendererOptions) {
    this.pool = new ChromiumPagePool(opts);
    this.log = opts.log ?? (() => undefined);
    this.coalescer = new RenderCoalescer({
      windowMs: opts.coalesceMs ?? 10,
      maxBatch: opts.batchMax ?? 50,
      printers: this.pool.size,
      printBatch: (docs) => this.printBatch(docs),
      isFatal: (error) => error instanceof RendererUnavailableError,
    });
  }

  get size(): number {
    return this.pool.size;
  }

  get busy(): number {
    return this.pool.busy;
  }

  get counts() {
    return this.coalescer.counts;
  }

  start(): Promise<void> {
    return this.pool.start();
  }

  browserPid(): number | undefined {
    return this.pool.browserPid();
  }

  render(doc: ReceiptDocument, opts: { signal?: AbortSignal; alone?: boolean } = {}): Promise<Buffer> {
    return this.coalescer.render(doc, opts);
  }

  renderHtml(html: string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Buffer> {
    return this.pool.renderHtml(html, opts);
  }

  async close(): Promise<void> {
    this.coalescer.failPending(new RendererUnavailableError('the receipt renderer is closed'));
    await this.pool.close();
  }

  /** One print of `docs`, one page each, split into one PDF per receipt; timed and counted. */
  private printBatch(docs: ReceiptDocument[]): Promise<Buffer[]> {
    return measurePrint(docs.length, () => this.printBatchNow(docs));
  }

  private async printBatchNow(docs: ReceiptDocument[]): Promise<Buffer[]> {
    const bad = this.opts.failRender && docs.find((d) => this.opts.failRender?.(d.transactionId));
    if (bad) throw new Error(`injected render failure for transaction ${bad.transactionId} (test only)`);
    if (this.opts.renderDelayMs)
      this.log(`test delay: holding receipts ${docs.map((d) => d.transactionId).join(',')} before printing`);
    const pdf = await this.renderHtml(receiptsHtml(docs));
    if (docs.length === 1) return [pdf];
    const pages = await splitPages(pdf, this.opts.qpdfPath ?? QPDF_PATH);
    // A receipt that overflowed its page shifts every later one: print smaller batches instead.
    if (pages.length !== docs.length)
      throw new Error(`a print of ${docs.length} receipts came out as ${pages.length} pages`);
    return pages;
  }
}
