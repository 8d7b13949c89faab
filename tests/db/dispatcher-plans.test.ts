// Every query the dispatcher (and /ready) runs reads wallet.receipts through an index, never by a sequential
// scan: checked on the plans PostgreSQL chose (auto_explain of the statements inside each function), not on
// timings, with a backlog shaped like the one after a long Temporal outage (many unstarted receipts, many
// with a lapsed API lease, a window's worth in flight, rendered history). The timings at 0 and 200,000
// pending are bench/receipts/dispatcher-queries.ts.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECEIPT_BACKLOG_COUNT_CAP } from '../../src/db/rows.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { nestedPlans, type PlanNode, receiptsAccess, receiptsRowsRead } from '../helpers/nested-plans.js';
import { fillReceiptBacklog } from '../helpers/receipt-backlog.js';

let db: TestDatabase;
let session: pg.Client;
let run: (sql: string, values?: unknown[]) => Promise<PlanNode[]>;
let someIds: number[];

beforeAll(async () => {
  db = await createTestDatabase();
  await fillReceiptBacklog(db.admin, {
    unstarted: 30_000,
    lapsedLeases: 10_000,
    inFlight: 100,
    rendered: 30_000,
  });
  const { rows } = await db.admin.query(
    "SELECT transaction_id FROM wallet.receipts WHERE status = 'pending' ORDER BY transaction_id LIMIT 100",
  );
  someIds = rows.map((r) => r.transaction_id);
  session = await db.client();
  run = await nestedPlans(session);
}, 120_000);

afterAll(async () => {
  await session?.query('ROLLBACK').catch(() => undefined);
});

/** The plans of a call that changes rows, rolled back so that every query sees the same backlog. */
async function rolledBack(sql: string, values: unknown[] = []): Promise<PlanNode[]> {
  await session.query('BEGIN');
  try {
    return await run(sql, values);
  } finally {
    await session.query('ROLLBACK');
  }
}

// What a dispatcher query may read of wallet.receipts with 30,000 pending: what it returns (a claim of 100, or
// a batch of 100 with it) and the window's 100 in flight, with room to spare, and nothing near the backlog.
const READ_BOUND = 500;

function expectIndexesOnly(plans: PlanNode[], expected: string[], readBound = READ_BOUND) {
  const access = receiptsAccess(plans);
  const detail = JSON.stringify(plans, null, 1);
  expect(receiptsRowsRead(plans), detail).toBeLessThanOrEqual(readBound);
  expect(
    access.filter((a) => a.startsWith('Seq Scan')),
    detail,
  ).toEqual([]);
  for (const index of expected) expect(access.join('\n'), detail).toContain(index);
  expect(access.length, detail).toBeGreaterThan(0);
}

describe('the dispatcher reads only what it needs', () => {
  it('would notice: without its indexes, the window count reads every pending receipt', async () => {
    await session.query('BEGIN');
    try {
      await session.query('DROP INDEX wallet.receipts_started, wallet.receipts_claimed');
      const plans = await run("SELECT wallet.receipts_in_flight(interval '15 seconds')");
      expect(receiptsRowsRead(plans)).toBeGreaterThanOrEqual(30_000);
    } finally {
      await session.query('ROLLBACK');
    }
  });

  it('claims through receipts_unstarted and receipts_started', async () => {
    const plans = await rolledBack(
      "SELECT * FROM wallet.claim_receipts('plans', 100, interval '15 seconds')",
    );
    expectIndexesOnly(plans, ['receipts_unstarted', 'receipts_started']);
  });

  it('claims a batch whole through receipts_by_batch', async () => {
    await session.query('BEGIN');
    try {
      // A batch at the head of the queue, so the claim expands to it.
      const { rows } = await session.query(
        'UPDATE wallet.receipts SET batch_id = $1 WHERE transaction_id = ANY ($2) RETURNING 1',
        [someIds[0], someIds.slice(0, 50)],
      );
      expect(rows).toHaveLength(50);
      const plans = await run("SELECT * FROM wallet.claim_receipts('plans', 10, interval '15 seconds')");
      expectIndexesOnly(plans, ['receipts_unstarted', 'receipts_by_batch']);
    } finally {
      await session.query('ROLLBACK');
    }
  });

  it('counts the window through receipts_started and receipts_claimed', async () => {
    const plans = await run("SELECT wallet.receipts_in_flight(interval '15 seconds')");
    expectIndexesOnly(plans, ['receipts_started', 'receipts_claimed']);
  });

  it('marks, releases and lists batch members by key', async () => {
    expectIndexesOnly(await rolledBack('SELECT wallet.mark_receipts_started($1::bigint[])', [someIds]), []);
    expectIndexesOnly(await rolledBack("SELECT wallet.release_receipts('api', $1::bigint[])", [someIds]), []);
    expectIndexesOnly(await run('SELECT * FROM wallet.receipt_batch_members($1::bigint[])', [[someIds[0]]]), [
      'receipts_by_batch',
    ]);
  });

  it('answers /ready from the partial indexes alone, reading at most the cap of each, not the backlog', async () => {
    const plans = await run('SELECT * FROM wallet.receipt_backlog()');
    // Two counts that stop one past the cap, and the lowest pending id; the backlog here is 30,100 pending.
    const bound = 2 * (RECEIPT_BACKLOG_COUNT_CAP + 1) + 1;
    expect(bound).toBeLessThan(30_100);
    expectIndexesOnly(plans, ['receipts_pending', 'receipts_unstarted'], bound);
    expect(receiptsAccess(plans).every((a) => a.startsWith('Index Only Scan'))).toBe(true);
  });
});
