// One Chromium per worker process and a small pool of warm pages, printing HTML to PDF under fixed
// protections; the receipt renderer (renderer.ts) and the statements print through it.
// - Launching a browser costs ~0.4 s and a fresh page ~0.2 s; a reused page prints in a fraction of that.
// - If Chromium dies (crash, OOM kill), the 'disconnected' event drops its pages, prints in flight fail
//   with RendererUnavailableError (retryable: the activity is retried with backoff) and a new browser is
//   launched, at once in the background and again on demand if that failed.
// - Hostile content is inert: JavaScript is off and every request the page tries to make is aborted; the
//   HTML is set with page.setContent on about:blank.
import os from 'node:os';
import type { HTTPRequest, Page } from 'puppeteer';
import { chromiumRestarts } from '../metrics/names.js';
import { type LaunchedBrowser, launchChromium } from './chromium.js';
import { Slots, sleep } from './slots.js';

export interface PagePoolOptions {
  executablePath: string;
  /** Requested pool size; capped by pagesFor(). */
  pages: number;
  /** A print's bound unless the caller gives its own. */
  timeoutMs?: number;
  /** TEST ONLY (RECEIPT_RENDER_DELAY_MS): hold each page this long before printing, so a test can kill the
   *  worker mid-render. Zero in production. */
  renderDelayMs?: number;
  log?: (message: string) => void;
}

/** Chromium went away (or never came) while rendering: a transient condition, retried by Temporal. */
export class RendererUnavailableError extends Error {
  override name = 'RendererUnavailableError';
}

/**
 * The pool size: as requested, capped at twice the core count. A render alternates between Chromium's CPU
 * work and waiting on IPC, so a few more pages than cores keeps the CPU busy; many more only adds memory.
 */
export function pagesFor(requested: number, cores = os.availableParallelism()): number {
  return Math.max(1, Math.min(requested, cores * 2));
}

interface Generation {
  id: number;
  launched: LaunchedBrowser;
  /** Renders in flight on this browser: told when it disconnects, so they fail at once, not at a timeout. */
  watchers: Set<(error: Error) => void>;
  dead: boolean;
}

interface WarmPage {
  page: Page;
  generation: Generation;
}

// Only the document we set ourselves may load; anything it references (img, css, fonts, prefetch) is refused.
function allowed(request: HTTPRequest): boolean {
  const url = request.url();
  return url === 'about:blank' || url.startsWith('data:');
}

/** Warm Chromium pages, `size` prints at a time; a dead browser is replaced by a new generation. */
export class ChromiumPagePool {
  readonly size: number;
  private readonly slots: Slots;
  private readonly timeoutMs: number;
  private readonly log: (message: string) => void;
  private current: Generation | undefined;
  private launching: Promise<Generation> | undefined;
  private nextGeneration = 1;
  private idle: WarmPage[] = [];
  private closed = false;
  private holding = 0;

  constructor(private readonly opts: PagePoolOptions) {
    this.size = pagesFor(opts.pages);
    this.slots = new Slots(this.size);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.log = opts.log ?? (() => undefined);
  }

  async start(): Promise<void> {
    const generation = await this.browser();
    await this.warm(generation);
  }

  get busy(): number {
    return this.holding;
  }

  browserPid(): number | undefined {
    return this.current?.launched.browser.process()?.pid;
  }

  async renderHtml(
    html: string,
    { signal, timeoutMs }: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<Buffer> {
    await this.slots.acquire(signal);
    let warm: WarmPage | undefined;
    let reusable = false;
    try {
      warm = await this.takePage();
      this.holding++;
      const pdf = await this.whileAlive(
        warm.generation,
        this.print(warm.page, html, signal, timeoutMs ?? this.timeoutMs),
      );
      reusable = true;
      return pdf;
    } catch (error) {
      if (signal?.aborted) throw signal.reason ?? error;
      throw this.explain(error, warm);
    } finally {
      if (warm) this.holding--;
      if (warm && reusable && warm.generation === this.current) this.idle.push(warm);
      else if (warm) void warm.page.close().catch(() => undefined);
      this.slots.release();
    }
  }

  /**
   * `work`, or a RendererUnavailableError as soon as the browser disconnects. A per-render promise on
   * purpose: racing one long-lived "browser gone" promise would keep every render's result reachable from
   * its reaction list, i.e. leak every PDF for the browser's lifetime.
   */
  private async whileAlive<T>(generation: Generation, work: Promise<T>): Promise<T> {
    let fail: (error: Error) => void = () => {};
    const died = new Promise<never>((_, reject) => {
      fail = reject;
    });
    if (generation.dead) fail(new RendererUnavailableError('Chromium disconnected'));
    generation.watchers.add(fail);
    try {
      return await Promise.race([work, died]);
    } finally {
      generation.watchers.delete(fail);
      work.catch(() => undefined); // settled after we stopped waiting: nobody else observes it
    }
  }

  private async print(
    page: Page,
    html: string,
    signal: AbortSignal | undefined,
    timeoutMs: number,
  ): Promise<Buffer> {
    await page.setContent(html, { waitUntil: 'load', timeout: timeoutMs });
    if (this.opts.renderDelayMs) await sleep(this.opts.renderDelayMs, signal);
    signal?.throwIfAborted();
    const pdf = await page.pdf({
      format: 'A4',
      printBackground: true,
      margin: { top: '18mm', bottom: '18mm', left: '16mm', right: '16mm' },
      timeout: timeoutMs,
      // No structure tree for accessibility and no outline: they cost Chromium CPU per page, and a receipt is
      // read as text (pdftotext) or viewed, never navigated.
      tagged: false,
      outline: false,
    });
    return Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength); // a view, not a copy
  }

  async close(): Promise<void> {
    this.closed = true;
    this.idle = [];
    const launching = this.launching;
    const current = this.current;
    this.current = undefined;
    await current?.launched.dispose();
    // A launch that was under way when we closed: wait for it and dispose of its browser too.
    const late = await launching?.catch(() => undefined);
    if (late && late !== current) await late.launched.dispose();
  }

  private async takePage(): Promise<WarmPage> {
    const generation = await this.browser();
    for (let warm = this.idle.pop(); warm; warm = this.idle.pop()) {
      if (warm.generation === generation && !warm.page.isClosed()) return warm;
    }
    return this.openPage(generation);
  }

  private async warm(generation: Generation): Promise<void> {
    const missing = this.size - this.idle.length;
    const pages = await Promise.all(Array.from({ length: missing }, () => this.openPage(generation)));
    this.idle.push(...pages);
  }

  private async openPage(generation: Generation): Promise<WarmPage> {
    try {
      const page = await generation.launched.browser.newPage();
      page.setDefaultTimeout(this.timeoutMs);
      await page.setJavaScriptEnabled(false);
      await page.setRequestInterception(true);
      page.on('request', (request) => {
        if (request.isInterceptResolutionHandled()) return;
        if (allowed(request)) void request.continue().catch(() => undefined);
        else void request.abort('blockedbyclient').catch(() => undefined);
      });
      return { page, generation };
    } catch (error) {
      throw this.explain(error, undefined);
    }
  }

  /** The running browser, launching one if there is none. Concurrent callers share one launch. */
  private async browser(): Promise<Generation> {
    if (this.closed) throw new RendererUnavailableError('the receipt renderer is closed');
    if (this.current?.launched.browser.connected) return this.current;
    this.launching ??= this.launch().finally(() => {
      this.launching = undefined;
    });
    try {
      return await this.launching;
    } catch (error) {
      throw new RendererUnavailableError(`Chromium did not start: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  private async launch(): Promise<Generation> {
    const launched = await launchChromium(this.opts.executablePath);
    if (this.closed) {
      await launched.dispose();
      throw new Error('the receipt renderer was closed during the launch');
    }
    const generation: Generation = { id: this.nextGeneration++, launched, watchers: new Set(), dead: false };
    if (generation.id > 1) chromiumRestarts.inc();
    launched.browser.once('disconnected', () => {
      generation.dead = true;
      for (const fail of generation.watchers)
        fail(new RendererUnavailableError('Chromium disconnected during the render'));
      this.onDisconnected(generation);
    });
    this.current = generation;
    this.idle = [];
    this.log(`Chromium started (pid ${launched.browser.process()?.pid}, ${this.size} pages)`);
    return generation;
  }

  private onDisconnected(generation: Generation): void {
    void generation.launched.dispose(); // kills leftovers of a half-dead browser, removes its profile
    if (this.current !== generation || this.closed) return;
    this.current = undefined;
    this.idle = [];
    this.log('Chromium disconnected; relaunching');
    void this.browser()
      .then((next) => this.warm(next))
      .catch((error) =>
        this.log(`Chromium relaunch failed (next render retries): ${(error as Error).message}`),
      );
  }

  /** Classifies a failure: anything caused by a dead browser or page is RendererUnavailableError. */
  private explain(error: unknown, warm: WarmPage | undefined): Error {
    if (error instanceof RendererUnavailableError) return error;
    const browserGone =
      !this.current?.launched.browser.connected || (warm && warm.generation !== this.current);
    if (browserGone || warm?.page.isClosed()) {
      return new RendererUnavailableError(
        `Chromium went away during the render: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}
