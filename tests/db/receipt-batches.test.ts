// The outbox side of batch receipts: wallet.transfer_batch groups its receipts by 100 items under the first
// item's id, unleased whoever calls; a claim takes a batch whole; the members (for the search attribute) and
// the receipts still pending (for the activity) come from one call each.
import { beforeAll, describe, expect, it } from 'vitest';
import { ledger } from '../../src/db/ledger.js';
import { createPool } from '../../src/db/pool.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;
let sender: number;
let receivers: number[];

beforeAll(async () => {
  db = await createTestDatabase();
  sender = await fundedUser(db.admin, 'payer', '100000.00');
  receivers = [await fundedUser(db.admin, 'r1'), await fundedUser(db.admin, 'r2')];
});

async function batch(items: number, pool = db.admin): Promise<number[]> {
  const ids = Array.from({ length: items }, (_, i) => receivers[i % 2] as number);
  const rows = await ledger.transferBatch(
    pool,
    sender,
    ids,
    ids.map(() => '1.00'),
  );
  return rows.map((r) => r.transaction_id);
}

async function receiptsOf(ids: number[]) {
  const { rows } = await db.admin.query(
    `SELECT transaction_id, batch_id, claimed_at, claimed_by FROM wallet.receipts
      WHERE transaction_id = ANY ($1) ORDER BY transaction_id`,
    [ids],
  );
  return rows;
}

/** Marks every pending receipt started, so that a test's claim sees only what it makes next. */
async function settleEverything() {
  await db.admin.query(
    "UPDATE wallet.receipts SET workflow_started_at = now(), claimed_at = NULL WHERE status = 'pending'",
  );
}

describe('batch receipts in the outbox', () => {
  it('groups a batch by 100 items under the first id of each group', async () => {
    const ids = await batch(250);
    const rows = await receiptsOf(ids);
    const expected = ids.map((_, i) => ids[Math.floor(i / 100) * 100]);
    expect(rows.map((r) => r.batch_id)).toEqual(expected);
    expect(new Set(expected)).toEqual(new Set([ids[0], ids[100], ids[200]]));
  });

  it('leaves batch receipts unleased even from the API, whose single transfers it leases', async () => {
    const api = createPool({ url: db.url, max: 1, role: 'wallet_app', startsReceiptWorkflows: true });
    try {
      const ids = await batch(2, api);
      expect((await receiptsOf(ids)).map((r) => [r.claimed_at, r.claimed_by])).toEqual([
        [null, null],
        [null, null],
      ]);
      const single = await ledger.transfer(api, sender, receivers[0] as number, '1.00');
      expect((await receiptsOf([single.transaction_id]))[0]?.claimed_by).toBe('api');
    } finally {
      await api.end();
    }
  });

  it('claims a batch whole, even past the limit, and a single receipt alone', async () => {
    await settleEverything();
    const ids = await batch(150); // groups of 100 and 50
    const single = (await ledger.transfer(db.admin, sender, receivers[1] as number, '1.00')).transaction_id;
    const first = await ledger.claimReceipts(db.worker, 'test', 1, 15_000);
    expect(first.map((r) => r.transaction_id)).toEqual(ids.slice(0, 100));
    expect(new Set(first.map((r) => r.batch_id))).toEqual(new Set([ids[0]]));
    const second = await ledger.claimReceipts(db.worker, 'test', 2, 15_000);
    expect(second.map((r) => r.transaction_id)).toEqual(ids.slice(100));
    const third = await ledger.claimReceipts(db.worker, 'test', 10, 15_000);
    expect(third).toMatchObject([{ transaction_id: single, batch_id: null }]);
    expect(await ledger.claimReceipts(db.worker, 'test', 10, 15_000)).toEqual([]);
  });

  it('lists every member of a batch, and its pending receipts only', async () => {
    const ids = await batch(3);
    const stored = ids[1] as number;
    await ledger.storeReceiptPdfs(db.worker, [stored], [Buffer.from('%PDF-1.4 test')], ['run']);
    expect(await ledger.receiptBatchMembers(db.worker, [ids[0] as number])).toEqual([
      { batchId: ids[0], transactionIds: ids },
    ]);
    expect(await ledger.pendingBatchReceipts(db.worker, ids[0] as number)).toEqual([ids[0], ids[2]]);
  });
});
