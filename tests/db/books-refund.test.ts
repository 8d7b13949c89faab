// wallet.refund: partial and full refunds of transfers and captures, every error with its SQLSTATE and DETAIL,
// idempotency, holds, both chains, history, transaction detail and the receipt document.
import { beforeAll, describe, expect, it } from 'vitest';
import { SqlState } from '../../src/db/sqlstate.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import { expectSqlState } from '../helpers/sql-errors.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});

let serial = 0;
const user = (amount = '0.00') => fundedUser(db.admin, `refund${++serial}`, amount);
const transfer = async (from: number, to: number, amount: string) =>
  (await db.app.query('SELECT * FROM wallet.transfer($1, $2, $3::numeric)', [from, to, amount])).rows[0]
    .transaction_id as number;
const refund = (
  id: number,
  amount: string | null = null,
  key: string | null = null,
  actor: number | null = null,
) => db.app.query('SELECT * FROM wallet.refund($1, $2::numeric, $3, $4)', [id, amount, key, actor]);
const balance = async (id: number) =>
  (await db.app.query('SELECT balance FROM wallet.balance($1)', [id])).rows[0].balance as string;
const audit = async () => (await db.admin.query('SELECT * FROM wallet.audit()')).rows;

/** alice pays bob 40.00 out of 100.00. */
async function paid() {
  const alice = await user('100.00');
  const bob = await user();
  return { alice, bob, original: await transfer(alice, bob, '40.00') };
}

describe('wallet.refund', () => {
  it('gives back part, then the rest, and says what is left each time', async () => {
    const { alice, bob, original } = await paid();
    const first = (await refund(original, '15', null, bob)).rows[0];
    expect(first).toMatchObject({
      refund_of: original,
      amount: '15.00',
      refunded_total: '15.00',
      refundable_remaining: '25.00',
      sender_balance: '25.00',
      receiver_balance: '75.00',
      replayed: false,
    });
    const rest = (await refund(original)).rows[0];
    expect(rest).toMatchObject({ amount: '25.00', refunded_total: '40.00', refundable_remaining: '0.00' });
    expect([await balance(alice), await balance(bob)]).toEqual(['100.00', '0.00']);
    const row = (
      await db.admin.query('SELECT * FROM wallet.transactions WHERE id = $1', [first.transaction_id])
    ).rows[0];
    expect(row).toMatchObject({ kind: 'refund', sender_id: bob, receiver_id: alice, refund_of: original });
    const receipt = await db.admin.query('SELECT status FROM wallet.receipts WHERE transaction_id = $1', [
      first.transaction_id,
    ]);
    expect(receipt.rows).toEqual([{ status: 'pending' }]);
    expect(await audit()).toEqual([]);
  });

  it('refuses more than is left, naming how much is left', async () => {
    const { bob, original } = await paid();
    await refund(original, '30.00', null, bob);
    const e = await expectSqlState(refund(original, '10.01'), SqlState.refundExceedsOriginal);
    expect(e.detail).toBe(
      `transaction ${original} of 40.00 has 30.00 refunded and 10.00 left; the refund asks 10.01`,
    );
    await refund(original, '10.00');
    const none = await expectSqlState(refund(original), SqlState.refundExceedsOriginal);
    expect(none.detail).toBe(
      `transaction ${original} of 40.00 has 40.00 refunded and 0.00 left; the refund asks the rest`,
    );
  });

  it('finds no transaction that does not exist, or that the acting user is no party to', async () => {
    const { original } = await paid();
    const stranger = await user();
    const e = await expectSqlState(refund(999999), SqlState.refundTransactionNotFound);
    expect(e.detail).toBe('no transaction 999999');
    await expectSqlState(refund(original, null, null, stranger), SqlState.refundTransactionNotFound);
  });

  it('refunds only transfers and captures, and only by their receiver', async () => {
    const { alice, original } = await paid();
    const deposit = (await db.admin.query('SELECT transaction_id FROM wallet.deposit($1, 1)', [alice]))
      .rows[0].transaction_id;
    const d = await expectSqlState(refund(deposit), SqlState.notRefundable);
    expect(d.detail).toBe(`transaction ${deposit} is a deposit; only transfers and captures can be refunded`);
    const r = (await refund(original, '1')).rows[0];
    await expectSqlState(refund(r.transaction_id), SqlState.notRefundable);
    await expectSqlState(refund(deposit, null, null, alice), SqlState.notRefundable);
    const s = await expectSqlState(refund(original, null, null, alice), SqlState.notOriginalReceiver);
    expect(s.detail).toContain(`user ${alice} sent transaction ${original}`);
  });

  it('refunds a capture', async () => {
    const alice = await user('50.00');
    const bob = await user();
    const hold = (await db.app.query('SELECT hold_id FROM wallet.hold($1, $2, 20)', [alice, bob])).rows[0]
      .hold_id;
    const capture = (await db.app.query('SELECT transaction_id FROM wallet.capture($1)', [hold])).rows[0]
      .transaction_id;
    expect((await refund(capture, '5', null, bob)).rows[0]).toMatchObject({ refundable_remaining: '15.00' });
    expect(await balance(alice)).toBe('35.00');
    expect(await audit()).toEqual([]);
  });

  it('needs the refunder to have the money available: spent or held money is insufficient funds', async () => {
    const { alice, bob, original } = await paid();
    const carol = await user();
    await transfer(bob, carol, '35.00');
    const e = await expectSqlState(refund(original, '10'), SqlState.insufficientFunds);
    expect(e.detail).toBe(
      `wallet ${bob} has 5.00, 0.00 held, 5.00 available; refund of transaction ${original} needs 10.00`,
    );
    await db.app.query('SELECT * FROM wallet.hold($1, $2, 5)', [bob, carol]);
    await expectSqlState(refund(original, '0.01'), SqlState.insufficientFunds);
    expect(await balance(alice)).toBe('60.00');
  });

  it('validates the amount and the key like a transfer', async () => {
    const { original } = await paid();
    await expectSqlState(refund(original, '0'), SqlState.invalidAmount);
    await expectSqlState(refund(original, '1.001'), SqlState.invalidAmount);
    await expectSqlState(refund(original, '1', ''), SqlState.invalidIdempotencyKey);
  });

  it('is idempotent: the same key and request replay, a different request with it is refused', async () => {
    const { alice, bob, original } = await paid();
    const first = (await refund(original, '10', 'k1', bob)).rows[0];
    await refund(original, '5', 'k2', bob);
    const again = (await refund(original, '10.00', 'k1', bob)).rows[0];
    expect(again).toEqual({ ...first, replayed: true });
    await expectSqlState(refund(original, '11', 'k1', bob), SqlState.idempotencyKeyReused);
    await expectSqlState(refund(original, null, 'k1', bob), SqlState.idempotencyKeyReused);
    // A transfer key of the refunder is the same namespace.
    await expectSqlState(
      db.app.query("SELECT * FROM wallet.transfer($1, $2, 1, 'k1')", [bob, alice]),
      SqlState.idempotencyKeyReused,
    );
    expect(await balance(alice)).toBe('75.00');
  });

  it('appears on both chains, in both histories and in the transaction detail with refunded_total', async () => {
    const { alice, bob, original } = await paid();
    const r = (await refund(original, '4', null, bob)).rows[0];
    const last = async (id: number) =>
      (
        await db.admin.query(
          'SELECT transaction_id, kind, counterparty_id, amount FROM wallet.entries WHERE user_id = $1 ORDER BY entry DESC LIMIT 1',
          [id],
        )
      ).rows[0];
    expect(await last(bob)).toEqual({
      transaction_id: r.transaction_id,
      kind: 'refund',
      counterparty_id: alice,
      amount: '-4.00',
    });
    expect(await last(alice)).toEqual({
      transaction_id: r.transaction_id,
      kind: 'refund',
      counterparty_id: bob,
      amount: '4.00',
    });
    const history = (await db.app.query('SELECT * FROM wallet.history($1)', [alice])).rows;
    expect(history[0]).toMatchObject({
      id: r.transaction_id,
      kind: 'refund',
      direction: 'received',
      refund_of: original,
      refunded_total: null,
    });
    expect(history[1]).toMatchObject({
      id: original,
      kind: 'transfer',
      refund_of: null,
      refunded_total: '4.00',
    });
    expect(history.at(-1)).toMatchObject({ kind: 'deposit', refunded_total: null });
    const detail = (await db.app.query('SELECT * FROM wallet.transaction_for($1, $2)', [bob, original]))
      .rows[0];
    expect(detail).toMatchObject({ refunded_total: '4.00', refund_of: null });
    const doc = (
      await db.worker.query('SELECT * FROM wallet.receipt_documents($1::bigint[])', [
        [r.transaction_id, original],
      ])
    ).rows;
    expect(doc.map((d) => [d.transaction_id, d.kind, d.refund_of]).sort()).toEqual(
      [
        [original, 'transfer', null],
        [r.transaction_id, 'refund', original],
      ].sort(),
    );
    expect((await db.admin.query('SELECT * FROM wallet.verify()')).rows).toEqual([]);
  });

  it('audit() names a refund that gives back more than its original (written around the function)', async () => {
    const { alice, bob, original } = await paid();
    const c = await db.admin.connect();
    await c.query('BEGIN');
    try {
      await c.query(
        `INSERT INTO wallet.transactions (kind, sender_id, receiver_id, amount, sender_balance_after,
                                          receiver_balance_after, refund_of)
         VALUES ('refund', $1, $2, 41, 0, 101, $3)`,
        [bob, alice, original],
      );
      const rows = (await c.query('SELECT problem FROM wallet.audit()')).rows.map((r) => r.problem);
      expect(rows).toContain('refund_mismatch');
    } finally {
      await c.query('ROLLBACK');
      c.release();
    }
  });
});
