// The renderer's raw rate, measured in a process of its own at the worker's CPU priority (so the comparison
// with the pipeline is like for like): warm pages, no Temporal, no database, receipts coalesced exactly as
// the worker coalesces them. Also Chromium's floor: its CPU for a blank page printed alone. Prints one JSON
// line. Usage: node --import tsx bench/receipts/raw-renderer.ts <renders> <pages> <nice>
import os from 'node:os';
import { resolveChromiumPath } from '../../src/activities/chromium.js';
import type { ReceiptDocument } from '../../src/activities/receipt-document.js';
import { createReceiptRenderer } from '../../src/activities/renderer.js';
import { loadConfig } from '../../src/config.js';
import { childrenCpuMs, treeCpuMs } from './memory.js';

const [renders = 1000, pages = 2, nice = 10] = process.argv.slice(2).map(Number);
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

const config = loadConfig();
const renderer = createReceiptRenderer({
  executablePath: resolveChromiumPath(config.chromiumPath),
  pages,
  coalesceMs: config.receiptCoalesceMs,
  batchMax: config.receiptBatchMax,
});
function sumChromium(): number {
  let ms = 0;
  for (const [role, v] of treeCpuMs(process.pid, (r) => r)) if (role.startsWith('chromium')) ms += v;
  return ms;
}
const nodeMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000 + childrenCpuMs(process.pid);
};
try {
  await renderer.start();
  await Promise.all(Array.from({ length: 10 }, (_, i) => renderer.render(doc(i)))); // warm-up
  const [c0, n0, p0] = [sumChromium(), nodeMs(), renderer.counts.prints];
  const started = performance.now();
  // As many in flight as the worker lets wait for a print (a full batch per page), so a page never idles.
  let next = 0;
  await Promise.all(
    Array.from({ length: renderer.size * config.receiptBatchMax }, async () => {
      while (next < renders) {
        next++;
        await renderer.render(doc(next));
      }
    }),
  );
  const rate = renders / ((performance.now() - started) / 1000);
  const chromiumPerReceipt = (sumChromium() - c0) / renders;
  const nodePerReceipt = (nodeMs() - n0) / renders;
  const prints = renderer.counts.prints - p0;
  // Chromium's floor: a blank page, printed alone, one at a time.
  const blanks = 50;
  const c1 = sumChromium();
  for (let i = 0; i < blanks; i++) await renderer.renderHtml('<!DOCTYPE html><html><body></body></html>');
  const blankPrintMs = (sumChromium() - c1) / blanks;
  console.log(
    JSON.stringify({
      rate,
      pages: renderer.size,
      nice: os.getPriority(),
      chromiumPerReceipt,
      nodePerReceipt,
      prints,
      blankPrintMs,
    }),
  );
} finally {
  await renderer.close();
}
