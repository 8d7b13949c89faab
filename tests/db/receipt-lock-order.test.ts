// The worker's statements that update many receipt rows at once (the dispatcher's marks and releases, the
// coalesced stores) run side by side while a backlog drains. Each must take its row locks in one order, or two
// of them deadlock (40P01): the receipts benchmark hit exactly that before they locked in id order.
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import { type Random, seededRandom } from '../helpers/random.js';

const RECEIPTS = 400;
const ROUNDS = 12;
const CALLERS = 8;

let db: TestDatabase;
let ids: number[];
let callers: pg.Client[];

beforeAll(async () => {
  db = await createTestDatabase();
  const from = await fundedUser(db.admin, 'payer', '1000000.00');
  const to = await fundedUser(db.admin, 'payee');
  const { rows } = await db.admin.query<{ transaction_id: number }>(
    'SELECT transaction_id FROM wallet.transfer_batch($1, array_fill($2::bigint, ARRAY[$3::integer]), array_fill(0.01, ARRAY[$3::integer]))',
    [from, to, RECEIPTS],
  );
  ids = rows.map((r) => r.transaction_id);
  // Scatter the rows on disk, so that a statement that does not order its locks meets them out of id order.
  await db.admin.query(
    "UPDATE wallet.receipts SET claimed_by = 'scatter' WHERE transaction_id = ANY ($1) AND transaction_id % 3 = 0",
    [ids],
  );
  callers = await Promise.all(Array.from({ length: CALLERS }, () => db.client('wallet_worker')));
});

function shuffledSample(random: Random, n: number): number[] {
  const copy = [...ids];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [copy[i], copy[j]] = [copy[j] as number, copy[i] as number];
  }
  return copy.slice(0, n);
}

describe('statements that update many receipts', () => {
  it('never deadlock against each other, whatever order their ids come in', async () => {
    const random = seededRandom('receipt-lock-order');
    const pdf = Buffer.from('%PDF-1.4 test');
    const failures: string[] = [];
    let stored = 0;
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(
        callers.map(async (client, i) => {
          const kind = (round + i) % 3;
          // Stores take few rows (a print's worth), so that most receipts stay pending for the others.
          const sample = shuffledSample(random, kind === 2 ? 8 : RECEIPTS / 2);
          try {
            if (kind === 0) await client.query('SELECT wallet.mark_receipts_started($1)', [sample]);
            else if (kind === 1)
              await client.query("SELECT wallet.release_receipts('scatter', $1)", [sample]);
            else {
              const { rows } = await client.query(
                'SELECT * FROM wallet.store_receipt_pdfs($1::bigint[], $2::bytea[], $3::text[])',
                [sample, sample.map(() => pdf), sample.map(() => `run-${round}-${i}`)],
              );
              stored += rows.filter((r) => r.stored_now).length;
            }
          } catch (error) {
            failures.push(`${(error as { code?: string }).code}: ${(error as Error).message}`);
          }
        }),
      );
    }
    expect(failures).toEqual([]);
    // Each receipt stored at most once, by whichever store got its lock first.
    const { rows } = await db.admin.query(
      "SELECT count(*)::int AS n FROM wallet.receipts WHERE transaction_id = ANY ($1) AND status = 'rendered'",
      [ids],
    );
    expect(stored).toBe(rows[0].n);
    expect(stored).toBeGreaterThan(0);
  }, 120_000);
});
