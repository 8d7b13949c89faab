// The renderer's raw rate, measured in a process of its own at the worker's CPU priority (so the comparison
// with the pipeline is like for like): warm pages, no Temporal, no database. Prints one JSON line.
// Usage: node --import tsx bench/receipts/raw-renderer.ts <renders> <pages> <nice>
import os from 'node:os';
import { resolveChromiumPath } from '../../src/activities/chromium.js';
import type { ReceiptDocument } from '../../src/activities/receipt-document.js';
import { createReceiptRenderer } from '../../src/activities/renderer.js';
import { loadConfig } from '../../src/config.js';

const [renders = 100, pages = 2, nice = 10] = process.argv.slice(2).map(Number);
if (nice > 0) os.setPriority(Math.max(os.getPriority(), nice)); // before Chromium starts, as the worker does

const doc = (i: number): ReceiptDocument => ({
  transactionId: i,
  kind: 'transfer',
  createdAt: new Date().toISOString(),
  sender: { id: 1, username: `sender ${i}` },
  receiver: { id: 2, username: `receiver ${i}` },
  amount: '0.01',
  recordSha256: 'f'.repeat(64),
});

const renderer = createReceiptRenderer({
  executablePath: resolveChromiumPath(loadConfig().chromiumPath),
  pages,
});
try {
  await renderer.start();
  await Promise.all(Array.from({ length: 10 }, (_, i) => renderer.render(doc(i)))); // warm-up
  const started = performance.now();
  // Twice as many in flight as pages, like the worker's activity slots: a page never waits for work.
  let next = 0;
  await Promise.all(
    Array.from({ length: renderer.size * 2 }, async () => {
      while (next < renders) {
        next++;
        await renderer.render(doc(next));
      }
    }),
  );
  const rate = renders / ((performance.now() - started) / 1000);
  console.log(JSON.stringify({ rate, pages: renderer.size, nice: os.getPriority() }));
} finally {
  await renderer.close();
}
