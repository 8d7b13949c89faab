// The backlog gauges above the cap of wallet.receipt_backlog()'s counts: wallet_receipts_pending and
// wallet_receipts_unstarted saturate at the cap (their HELP says so) and wallet_receipts_backlog_capped turns 1
// for each count above it; below and at the cap the gauges are exact and the flags 0. The oldest age keeps
// growing with the real oldest receipt. Read through the worker's registry, as /metrics serves it.
import { beforeAll, describe, expect, it } from 'vitest';
import { RECEIPT_BACKLOG_COUNT_CAP as CAP } from '../../src/db/rows.js';
import { workerRegistry } from '../../src/metrics/names.js';
import { trackReceiptBacklog } from '../../src/metrics/receipts.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { parseMetrics, total } from '../helpers/metrics.js';
import { fillReceiptBacklog } from '../helpers/receipt-backlog.js';

let db: TestDatabase;
let pending = 0;

beforeAll(async () => {
  db = await createTestDatabase();
});

/** Grows the backlog to `growTo` unstarted receipts and reads the gauges as a fresh scrape would. */
async function gaugesAt(growTo: number) {
  await fillReceiptBacklog(db.admin, { unstarted: growTo - pending });
  pending = growTo;
  trackReceiptBacklog(db.worker); // forgets the last read: the next scrape reads the database
  const text = await workerRegistry.metrics();
  const samples = parseMetrics(text);
  return {
    text,
    pending: total(samples, 'wallet_receipts_pending'),
    unstarted: total(samples, 'wallet_receipts_unstarted'),
    pendingCapped: total(samples, 'wallet_receipts_backlog_capped', { count: 'pending' }),
    unstartedCapped: total(samples, 'wallet_receipts_backlog_capped', { count: 'unstarted' }),
  };
}

describe('the backlog gauges and the cap', () => {
  it('are exact, flags 0, just below and at the cap', async () => {
    for (const count of [CAP - 1, CAP]) {
      expect(await gaugesAt(count), `${count} pending`).toMatchObject({
        pending: count,
        unstarted: count,
        pendingCapped: 0,
        unstartedCapped: 0,
      });
    }
  });

  it('saturate at the cap with the flags 1 above it, and say so in their HELP', async () => {
    const gauges = await gaugesAt(CAP + 1);
    expect(gauges).toMatchObject({ pending: CAP, unstarted: CAP, pendingCapped: 1, unstartedCapped: 1 });
    const cap = CAP.toLocaleString('en');
    for (const name of [
      'wallet_receipts_pending',
      'wallet_receipts_unstarted',
      'wallet_receipts_backlog_capped',
    ])
      expect(gauges.text).toMatch(new RegExp(`# HELP ${name} .*${cap}`));
  });
});
