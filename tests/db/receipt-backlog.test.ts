// wallet.receipt_backlog() counts up to a cap and says when it stopped there: exact counts just below and at
// the cap, the cap with its flag above it (never a made-up number), each count capped on its own, rendered
// receipts never counted, and the oldest pending time exact at any backlog ("more than 10,000, and the oldest
// is 40 minutes old"). The backlog grows through the file, as after an outage; what reads it is wallet_app, as
// GET /ready does. Its plan reads one past the cap of each partial index, also when nearly every receipt is
// pending (tests/db/dispatcher-plans.test.ts checks it in the shape of an outage's backlog).
import { beforeAll, describe, expect, it } from 'vitest';
import { ledger } from '../../src/db/ledger.js';
import { RECEIPT_BACKLOG_COUNT_CAP as CAP } from '../../src/db/rows.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { nestedPlans, receiptsAccess, receiptsRowsRead } from '../helpers/nested-plans.js';
import { fillReceiptBacklog } from '../helpers/receipt-backlog.js';

let db: TestDatabase;
let oldest: Date;

/** One pending receipt of a transaction made 40 minutes ago, first in id order: the oldest of the backlog. */
async function addOldPending(): Promise<Date> {
  const { rows } = await db.admin.query(
    `WITH t AS (
       INSERT INTO wallet.transactions (kind, receiver_id, amount, receiver_balance_after, created_at)
       VALUES ('deposit', wallet.create_user('old_' || md5(random()::text), NULL), 1.00, 1.00,
               date_trunc('milliseconds', now()) - interval '40 minutes')
       RETURNING id, created_at
     ), r AS (INSERT INTO wallet.receipts (transaction_id) SELECT id FROM t)
     SELECT created_at FROM t`,
  );
  return rows[0].created_at as Date;
}

/** Grows the pending backlog (all unstarted) to `total`. */
async function pendingTotal(total: number) {
  const { rows } = await db.admin.query(
    "SELECT count(*)::integer AS n FROM wallet.receipts WHERE status = 'pending'",
  );
  await fillReceiptBacklog(db.admin, { unstarted: total - (rows[0].n as number) });
}

beforeAll(async () => {
  db = await createTestDatabase();
  oldest = await addOldPending();
  // Rendered history, outside both counts, more than the cap of it.
  await fillReceiptBacklog(db.admin, { unstarted: 0, rendered: CAP + 500 });
}, 60_000);

describe('wallet.receipt_backlog()', () => {
  it('stops where src/db/rows.ts says it does', async () => {
    const { rows } = await db.admin.query('SELECT wallet.receipt_backlog_count_cap() AS cap');
    expect(rows[0].cap).toBe(CAP);
  });

  it('is exact just below the cap', async () => {
    await pendingTotal(CAP - 1);
    expect(await ledger.receiptBacklog(db.app)).toEqual({
      pending: CAP - 1,
      pending_capped: false,
      unstarted: CAP - 1,
      unstarted_capped: false,
      oldest_pending_at: oldest,
    });
  });

  it('is exact at the cap', async () => {
    await pendingTotal(CAP);
    expect(await ledger.receiptBacklog(db.app)).toEqual({
      pending: CAP,
      pending_capped: false,
      unstarted: CAP,
      unstarted_capped: false,
      oldest_pending_at: oldest,
    });
  });

  it('answers the cap and capped one above it, and far above it, with the oldest time exact', async () => {
    for (const total of [CAP + 1, 3 * CAP]) {
      await pendingTotal(total);
      expect(await ledger.receiptBacklog(db.app), `${total} pending`).toEqual({
        pending: CAP,
        pending_capped: true,
        unstarted: CAP,
        unstarted_capped: true,
        oldest_pending_at: oldest,
      });
    }
  });

  it('reads one past the cap of each partial index, not the backlog, when most receipts are pending', async () => {
    // Here 30,001 pending after 10,500 rendered: a plan that scans the table and stops at the LIMIT would read
    // the rendered history first, so the bound is checked on the rows each node read (auto_explain).
    const session = await db.client();
    const run = await nestedPlans(session);
    const plans = await run('SELECT * FROM wallet.receipt_backlog()');
    const detail = JSON.stringify(plans, null, 1);
    expect(receiptsAccess(plans), detail).toEqual([
      'Index Only Scan receipts_pending',
      'Index Only Scan receipts_pending',
      'Index Only Scan receipts_unstarted',
    ]);
    expect(receiptsRowsRead(plans), detail).toBeLessThanOrEqual(2 * (CAP + 1) + 1);
  });

  it('caps each count on its own: more than the cap pending, an exact few unstarted', async () => {
    const client = await db.admin.connect();
    try {
      await client.query('BEGIN');
      // Workflows started for all but the last 7 unstarted (rolled back: the backlog stays for the others).
      await client.query(
        `UPDATE wallet.receipts SET workflow_started_at = now()
          WHERE status = 'pending' AND transaction_id < (
            SELECT transaction_id FROM wallet.receipts WHERE status = 'pending'
             ORDER BY transaction_id DESC OFFSET 6 LIMIT 1)`,
      );
      expect(await ledger.receiptBacklog(client)).toMatchObject({
        pending: CAP,
        pending_capped: true,
        unstarted: 7,
        unstarted_capped: false,
        oldest_pending_at: oldest,
      });
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('counts nothing and no oldest time once every receipt is rendered', async () => {
    const client = await db.admin.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        "UPDATE wallet.receipts SET status = 'rendered', pdf = '\\x25504446'::bytea, pdf_size = 4, " +
          "pdf_sha256 = 'test', rendered_at = now() WHERE status = 'pending'",
      );
      expect(await ledger.receiptBacklog(client)).toEqual({
        pending: 0,
        pending_capped: false,
        unstarted: 0,
        unstarted_capped: false,
        oldest_pending_at: null,
      });
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
