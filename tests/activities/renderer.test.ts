// The Chromium renderer against a real Chromium: what a receipt shows, that hostile content stays inert, and
// that a dead browser gives a retryable error and is replaced.
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceiptDocument } from '../../src/activities/receipt-document.js';
import {
  createReceiptRenderer,
  pagesFor,
  type ReceiptRenderer,
  RendererUnavailableError,
} from '../../src/activities/renderer.js';
import { chromiumRestarts, renderFailures } from '../../src/metrics/names.js';
import { descendants, isChromium, pdfText, testChromiumPath, waitUntilGone } from '../helpers/chromium.js';

const SHA = 'c0ffee'.padEnd(64, '0');

function doc(overrides: Partial<ReceiptDocument> = {}): ReceiptDocument {
  return {
    transactionId: 4711,
    kind: 'transfer',
    createdAt: '2025-03-04T05:06:07.891Z',
    sender: { id: 12, username: 'alice' },
    receiver: { id: 34, username: 'bob' },
    amount: '1234.56',
    recordSha256: SHA,
    ...overrides,
  };
}

/** A local HTTP server that counts every request it gets: the page must never reach it. */
async function requestCounter(): Promise<{ server: Server; url: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.end('x');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, hits };
}

describe('receipt renderer', () => {
  let renderer: ReceiptRenderer;

  beforeAll(async () => {
    renderer = createReceiptRenderer({ executablePath: testChromiumPath(), pages: 2 });
    await renderer.start();
  });

  afterAll(async () => {
    await renderer.close();
  });

  it('prints an A4 receipt with every field of the transaction', async () => {
    const pdf = await renderer.render(doc());
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const text = pdfText(pdf);
    for (const expected of [
      'Payment receipt',
      'Transaction 4711',
      'Type Transfer',
      'Date (UTC) 2025-03-04',
      'Time (UTC) 05:06:07',
      'From alice (user #12)',
      'To bob (user #34)',
      'Amount 1234.56',
      `Record SHA-256 ${SHA}`,
    ]) {
      expect(text).toContain(expected);
    }
    const info = execFileSync('pdfinfo', ['-'], { input: pdf, encoding: 'utf8' });
    expect(info).toMatch(/Pages:\s+1\b/);
    expect(info).toMatch(/Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)/);
  });

  it('shows a deposit as having no sender', async () => {
    const text = pdfText(await renderer.render(doc({ kind: 'deposit', sender: null })));
    expect(text).toContain('Type Deposit');
    expect(text).toContain('From none (deposit)');
    expect(text).toContain('To bob (user #34)');
  });

  it('prints CJK and accented names as text', async () => {
    const sender = { id: 1, username: '山田太郎 Zoë' };
    const receiver = { id: 2, username: 'José Ñúñez Żółć Åsa 김민준' };
    const text = pdfText(await renderer.render(doc({ sender, receiver })));
    expect(text).toContain('From 山田太郎 Zoë (user #1)');
    expect(text).toContain('To José Ñúñez Żółć Åsa 김민준 (user #2)');
  });

  it('prints a hostile username literally and makes no request', async () => {
    const counter = await requestCounter();
    try {
      const port = new URL(counter.url).port;
      const hostile = `<img src=http://127.0.0.1:${port}/x>`;
      const script = `<script>fetch('http://127.0.0.1:${port}/js')</script>`;
      const pdf = await renderer.render(
        doc({ sender: { id: 1, username: hostile }, receiver: { id: 2, username: script } }),
      );
      const text = pdfText(pdf);
      expect(text).toContain(`From ${hostile} (user #1)`);
      expect(text).toContain(`To ${script} (user #2)`);
      expect(counter.hits).toEqual([]);
    } finally {
      await new Promise((resolve) => counter.server.close(resolve));
    }
  });

  it('keeps raw HTML inert too: no script runs, no resource loads (defence behind the escaping)', async () => {
    const counter = await requestCounter();
    try {
      const u = counter.url;
      const html = `<!DOCTYPE html><html><head>
        <link rel="stylesheet" href="${u}/style.css"><link rel="prefetch" href="${u}/prefetch">
        <style>@import url(${u}/import.css); @font-face { font-family: x; src: url(${u}/font.woff); }
          body { font-family: x; background: url(${u}/bg.png); }</style>
        <script src="${u}/script.js"></script></head><body>
        <p>static text</p><img src="${u}/img.png"><iframe src="${u}/frame"></iframe>
        <object data="${u}/object"></object><video src="${u}/video" autoplay></video>
        <script>document.write('SCRIPT RAN'); fetch('${u}/fetch'); new Image().src = '${u}/js-img';</script>
        <noscript>scripts are off</noscript></body></html>`;
      const text = pdfText(await renderer.renderHtml(html));
      expect(text).toContain('static text');
      expect(text).not.toContain('SCRIPT RAN');
      expect(text).toContain('scripts are off');
      expect(counter.hits).toEqual([]);
    } finally {
      await new Promise((resolve) => counter.server.close(resolve));
    }
  });

  it('coalesces concurrent receipts into fewer prints, each receipt its own one-page A4 PDF', async () => {
    const before = { ...renderer.counts };
    const n = 12;
    const pdfs = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        renderer.render(doc({ transactionId: i + 1, amount: `${i + 1}.25` })),
      ),
    );
    const prints = renderer.counts.prints - before.prints;
    expect(renderer.counts.receipts - before.receipts).toBe(n);
    // 12 arrive in one tick, 2 printers: at most one print per page, never one per receipt.
    expect(prints).toBeLessThanOrEqual(2);
    pdfs.forEach((pdf, i) => {
      const text = pdfText(pdf);
      expect(text).toContain(`Transaction ${i + 1}`);
      expect(text).toContain(`Amount ${i + 1}.25`);
      expect(text).not.toContain(`Transaction ${i + 2} `); // nothing of a neighbour's page
      expect(execFileSync('pdfinfo', ['-'], { input: pdf, encoding: 'utf8' })).toMatch(/Pages:\s+1\b/);
    });
  });

  it('prints a receipt asked to print alone in a print of its own', async () => {
    const before = renderer.counts.prints;
    const [together, alone] = await Promise.all([
      renderer.render(doc({ transactionId: 71 })),
      renderer.render(doc({ transactionId: 72 }), { alone: true }),
    ]);
    expect(renderer.counts.prints - before).toBe(2);
    expect(pdfText(together)).toContain('Transaction 71');
    expect(pdfText(alone)).toContain('Transaction 72');
  });

  it('keeps no reference to a PDF it returned (no leak over a long-lived browser)', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const refs: WeakRef<Buffer>[] = [];
    for (let i = 0; i < 3; i++)
      refs.push(new WeakRef(await renderer.render(doc({ transactionId: 500 + i }))));
    // WeakRefs hold their target until the current job ends: collect on a later macrotask.
    await new Promise((resolve) => setTimeout(resolve, 10));
    gc();
    expect(refs.map((r) => r.deref())).toEqual([undefined, undefined, undefined]);
  });

  it('caps the pool near the core count', () => {
    expect(pagesFor(8, 2)).toBe(4);
    expect(pagesFor(3, 2)).toBe(3);
    expect(pagesFor(0, 2)).toBe(1);
    expect(pagesFor(1, 16)).toBe(1);
  });
});

describe('receipt renderer when one receipt of a coalesced print cannot be printed', () => {
  it('fails that receipt alone; its neighbours get their PDFs', async () => {
    const BAD = 203;
    const asked: number[] = [];
    const renderer = createReceiptRenderer({
      executablePath: testChromiumPath(),
      pages: 1,
      failRender: (id) => {
        asked.push(id);
        return id === BAD;
      },
    });
    try {
      await renderer.start();
      const ids = [201, 202, 203, 204, 205, 206];
      const results = await Promise.allSettled(ids.map((id) => renderer.render(doc({ transactionId: id }))));
      for (const [i, id] of ids.entries()) {
        const result = results[i];
        if (id === BAD) {
          expect(result?.status).toBe('rejected');
          expect(String((result as PromiseRejectedResult).reason)).toContain(`transaction ${BAD}`);
        } else {
          expect(result?.status).toBe('fulfilled');
          expect(pdfText((result as PromiseFulfilledResult<Buffer>).value)).toContain(`Transaction ${id}`);
        }
      }
      // The first print carried all six; halves were tried until the bad receipt was printed alone.
      expect(asked.slice(0, 3)).toEqual([201, 202, 203]);
      expect(asked.filter((id) => id === BAD).length).toBeGreaterThanOrEqual(3);
      expect(renderer.counts.receipts).toBe(5);
    } finally {
      await renderer.close();
    }
  }, 60_000);
});

describe('receipt renderer when Chromium dies', () => {
  it('fails the render in flight with a retryable error, relaunches, and leaves no process behind', async () => {
    const renderer = createReceiptRenderer({
      executablePath: testChromiumPath(),
      pages: 1,
      renderDelayMs: 10_000,
    });
    const seen = [];
    // The worker's metrics see it too: one print failed as chromium_unavailable, one relaunch.
    const counts = async () => ({
      restarts: (await chromiumRestarts.get()).values[0]?.value ?? 0,
      unavailable:
        (await renderFailures.get()).values.find((v) => v.labels.kind === 'chromium_unavailable')?.value ?? 0,
    });
    try {
      await renderer.start();
      const before = await counts();
      const firstPid = renderer.browserPid();
      if (!firstPid) throw new Error('no browser pid');
      seen.push(...descendants(process.pid).filter(isChromium));

      const inFlight = renderer.render(doc());
      inFlight.catch(() => undefined);
      while (renderer.busy === 0) await new Promise((resolve) => setTimeout(resolve, 20)); // it holds a page
      process.kill(firstPid, 'SIGKILL');
      const error = await inFlight.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RendererUnavailableError);
      expect(await waitUntilGone(seen)).toEqual([]);

      // The next render runs on a new browser (the delay knob still applies: it takes 10 s).
      const text = pdfText(await renderer.render(doc({ transactionId: 99 })));
      expect(text).toContain('Transaction 99');
      expect(renderer.browserPid()).not.toBe(firstPid);
      expect(await counts()).toEqual({ restarts: before.restarts + 1, unavailable: before.unavailable + 1 });
      seen.push(...descendants(process.pid).filter(isChromium));
    } finally {
      await renderer.close();
    }
    expect(await waitUntilGone(seen)).toEqual([]);
  }, 90_000);
});

describe('receipt renderer with two pages', () => {
  it('runs two prints at once (both pages busy together), never a third', async () => {
    // Each print is held 1.5 s after its content is set, so prints that overlap are seen overlapping.
    const renderer = createReceiptRenderer({
      executablePath: testChromiumPath(),
      pages: 2,
      renderDelayMs: 1_500,
    });
    try {
      await renderer.start();
      const before = renderer.counts.prints;
      const busy: number[] = [];
      const renders = Promise.all(
        [81, 82, 83].map((id) => renderer.render(doc({ transactionId: id }), { alone: true })),
      );
      let done = false;
      void renders.finally(() => {
        done = true;
      });
      const deadline = Date.now() + 60_000;
      while (!done && Date.now() < deadline) {
        busy.push(renderer.busy);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const pdfs = await renders;
      expect(Math.max(...busy)).toBe(2); // two pages printing together, and never three
      expect(renderer.counts.prints - before).toBe(3); // alone: one print each, the third after a page freed
      for (const [i, pdf] of pdfs.entries()) expect(pdfText(pdf)).toContain(`Transaction ${81 + i}`);
    } finally {
      await renderer.close();
    }
  }, 90_000);
});
