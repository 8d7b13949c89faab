// wallet.transfer_batch: fan-out in one commit, all or nothing, every failure naming its item.
import { Decimal } from 'decimal.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { SqlState } from '../../src/db/sqlstate.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import { expectSqlState } from '../helpers/sql-errors.js';

let db: TestDatabase;
let sender: number;
let r1: number;
let r2: number;
let r3: number;
beforeAll(async () => {
  db = await createTestDatabase();
  sender = await fundedUser(db.admin, 'payroll', '100.00');
  r1 = await fundedUser(db.admin, 'worker1');
  r2 = await fundedUser(db.admin, 'worker2', '5.00');
  r3 = await fundedUser(db.admin, 'worker3');
});

const batch = (from: number, to: (number | null)[], amounts: (string | null)[], key?: string) =>
  db.app.query('SELECT * FROM wallet.transfer_batch($1, $2::bigint[], $3::numeric[], $4)', [
    from,
    to,
    amounts,
    key ?? null,
  ]);

/** Every balance (as exact text) and every row count: what "moves nothing" compares. */
async function books(): Promise<{ balances: [number, string][]; transactions: string; receipts: string }> {
  const { rows } = await db.admin.query(
    `SELECT (SELECT json_agg(json_build_array(user_id, balance::text) ORDER BY user_id) FROM wallet.wallets) AS balances,
            (SELECT count(*) FROM wallet.transactions) AS transactions,
            (SELECT count(*) FROM wallet.receipts) AS receipts`,
  );
  return rows[0];
}

describe('wallet.transfer_batch', () => {
  it('moves every item in order, each its own transaction with its own receipt; a receiver may repeat', async () => {
    const { rows } = await batch(sender, [r1, r2, r1], ['10.00', '2.5', '0.01']);
    expect(rows.map(({ transaction_id, created_at, ...rest }) => rest)).toEqual([
      {
        item: 1,
        receiver_id: r1,
        amount: '10.00',
        sender_balance: '90.00',
        receiver_balance: '10.00',
        replayed: false,
      },
      {
        item: 2,
        receiver_id: r2,
        amount: '2.50',
        sender_balance: '87.50',
        receiver_balance: '7.50',
        replayed: false,
      },
      {
        item: 3,
        receiver_id: r1,
        amount: '0.01',
        sender_balance: '87.49',
        receiver_balance: '10.01',
        replayed: false,
      },
    ]);
    const ids = rows.map((r) => r.transaction_id as number);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const receipts = await db.admin.query(
      "SELECT count(*)::int AS n FROM wallet.receipts WHERE transaction_id = ANY($1) AND status = 'pending'",
      [ids],
    );
    expect(receipts.rows[0].n).toBe(3);
    expect((await db.admin.query('SELECT * FROM wallet.audit()')).rows).toEqual([]);
  });

  // Item 2 or 3 is the bad one each time, so the DETAIL must say which.
  it.each([
    [
      'an unknown receiver',
      () => [r1, r2, 999_999],
      ['1', '1', '1'],
      SqlState.receiverNotFound,
      'item 3: no wallet 999999',
    ],
    [
      'a NULL receiver',
      () => [r1, null, r2],
      ['1', '1', '1'],
      SqlState.receiverNotFound,
      'item 2: no wallet NULL',
    ],
    [
      'the sender as receiver',
      () => [r1, sender, r2],
      ['1', '1', '1'],
      SqlState.sameWallet,
      'item 2: sender and receiver',
    ],
    [
      'a zero amount',
      () => [r1, r2, r3],
      ['1', '0', '1'],
      SqlState.invalidAmount,
      'item 2: transfer amount was 0',
    ],
    [
      'a negative amount',
      () => [r1, r2, r3],
      ['1', '1', '-1'],
      SqlState.invalidAmount,
      'item 3: transfer amount was -1',
    ],
    [
      'three decimals',
      () => [r1, r2, r3],
      ['1', '0.001', '1'],
      SqlState.invalidAmount,
      'item 2: transfer amount was 0.001',
    ],
    [
      'a NULL amount',
      () => [r1, r2, r3],
      ['1', null, '1'],
      SqlState.invalidAmount,
      'item 2: transfer amount was NULL',
    ],
    [
      'an amount over the limit',
      () => [r1, r2, r3],
      ['1', '1', '1000000000000.01'],
      SqlState.invalidAmount,
      'item 3',
    ],
    [
      'funds short only at item 3',
      () => [r1, r2, r3],
      ['50', '37', '1'],
      SqlState.insufficientFunds,
      'item 3: wallet',
    ],
  ] as const)('refuses %s, naming the item, and moves nothing', async (_what, to, amounts, code, detail) => {
    const before = await books();
    const e = await expectSqlState(batch(sender, to(), [...amounts]), code);
    expect(e.detail).toContain(detail);
    expect(await books()).toEqual(before);
  });

  it('says what the sender has left at the item that is short', async () => {
    const { rows } = await db.admin.query('SELECT balance FROM wallet.wallets WHERE user_id = $1', [sender]);
    const e = await expectSqlState(batch(sender, [r1, r2], ['80', '10']), SqlState.insufficientFunds);
    expect(rows[0].balance).toBe('87.49');
    expect(e.detail).toBe(
      `item 2: wallet ${sender} has 7.49 available (0.00 held) after the items before it, item needs 10.00`,
    );
  });

  it('refuses a receiver pushed past the maximum balance by its second item', async () => {
    const rich = await fundedUser(db.admin, 'rich');
    await db.admin.query('UPDATE wallet.wallets SET balance = 999999999999999998.00 WHERE user_id = $1', [
      rich,
    ]);
    const before = await books();
    const e = await expectSqlState(
      batch(sender, [rich, r1, rich], ['1', '1', '1']),
      SqlState.balanceOverLimit,
    );
    expect(e.detail).toContain('item 3');
    expect(await books()).toEqual(before);
    await db.admin.query('UPDATE wallet.wallets SET balance = 0 WHERE user_id = $1', [rich]); // books again
  });

  it('refuses an unknown sender', async () => {
    await expectSqlState(batch(999_999, [r1], ['1']), SqlState.senderNotFound);
  });

  it.each([
    ['empty arrays', [], [], SqlState.batchEmpty],
    ['NULL arrays', null, null, SqlState.batchEmpty],
    ['more receivers than amounts', [1, 2], ['1'], SqlState.batchLengthMismatch],
    ['more amounts than receivers', [1], ['1', '2'], SqlState.batchLengthMismatch],
  ] as const)('refuses %s with their own SQLSTATE', async (_what, to, amounts, code) => {
    const before = await books();
    await expectSqlState(
      db.app.query('SELECT * FROM wallet.transfer_batch($1, $2::bigint[], $3::numeric[])', [
        sender,
        to,
        amounts,
      ]),
      code,
    );
    expect(await books()).toEqual(before);
  });

  it('refuses 10,001 items and moves 10,000 in one call', async () => {
    const rich = await fundedUser(db.admin, 'fanout', '100000.00');
    const to = [r1, r2, r3];
    const many = (n: number) => Array.from({ length: n }, (_, i) => to[i % 3] as number);
    const before = await books();
    const e = await expectSqlState(
      batch(rich, many(10_001), Array(10_001).fill('0.01')),
      SqlState.batchTooLarge,
    );
    expect(e.detail).toBe('10001 items, at most 10000');
    expect(await books()).toEqual(before);
    const { rows } = await batch(rich, many(10_000), Array(10_000).fill('0.01'));
    expect(rows).toHaveLength(10_000);
    expect(rows.map((r) => r.item)).toEqual(Array.from({ length: 10_000 }, (_, i) => i + 1));
    expect(rows.at(-1)).toMatchObject({ sender_balance: '99900.00', replayed: false });
    const after = await books();
    expect(Number(after.transactions) - Number(before.transactions)).toBe(10_000);
    expect(Number(after.receipts) - Number(before.receipts)).toBe(10_000);
    expect((await db.admin.query('SELECT * FROM wallet.audit()')).rows).toEqual([]);
  });
});

describe('wallet.transfer_batch idempotency', () => {
  it('replays the whole batch with replayed = true, even after later transfers from the sender', async () => {
    const from = await fundedUser(db.admin, 'replayer', '100.00');
    const first = (await batch(from, [r1, r2, r1], ['1', '2', '3'], 'payroll-1')).rows;
    await db.app.query('SELECT * FROM wallet.transfer($1, $2, 1)', [from, r3]);
    await batch(from, [r3], ['1']);
    const before = await books();
    const again = (await batch(from, [r1, r2, r1], ['1.00', '2.0', '3'], 'payroll-1')).rows;
    expect(again).toEqual(first.map((row) => ({ ...row, replayed: true })));
    expect(await books()).toEqual(before);
  });

  it('refuses the key for another batch, for a single transfer, and a single transfer’s key for a batch', async () => {
    const from = await fundedUser(db.admin, 'reuser', '100.00');
    await batch(from, [r1, r2], ['1', '2'], 'k-batch');
    const before = await books();
    await expectSqlState(batch(from, [r1, r2], ['1', '2.01'], 'k-batch'), SqlState.idempotencyKeyReused);
    await expectSqlState(batch(from, [r2, r1], ['2', '1'], 'k-batch'), SqlState.idempotencyKeyReused);
    await expectSqlState(batch(from, [r1], ['1'], 'k-batch'), SqlState.idempotencyKeyReused);
    await expectSqlState(
      db.app.query("SELECT * FROM wallet.transfer($1, $2, 1, 'k-batch')", [from, r1]),
      SqlState.idempotencyKeyReused,
    );
    await db.app.query("SELECT * FROM wallet.transfer($1, $2, 1, 'k-single')", [from, r1]);
    await expectSqlState(batch(from, [r1], ['1'], 'k-single'), SqlState.idempotencyKeyReused);
    await expectSqlState(batch(from, [r1], ['1'], ''), SqlState.invalidIdempotencyKey);
    // Only the k-single transfer moved: 1.00 from the sender to r1, one transaction, every other wallet as it was.
    const moved = { [from]: '-1.00', [r1]: '1.00' };
    const after = await books();
    expect(after.balances).toEqual(
      before.balances.map(([id, b]) => [id, new Decimal(b).plus(moved[id] ?? '0').toFixed(2)]),
    );
    expect(Number(after.transactions) - Number(before.transactions)).toBe(1);
    expect(Number(after.receipts) - Number(before.receipts)).toBe(1);
  });
});
