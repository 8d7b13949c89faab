// wallet.hold, capture and release: the happy paths and every SQLSTATE they raise, on a real PostgreSQL.
import { beforeAll, describe, expect, it } from 'vitest';
import { SqlState } from '../../src/db/sqlstate.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import { expectSqlState } from '../helpers/sql-errors.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});

let n = 0;
const pair = async (balance = '100.00'): Promise<[number, number]> => [
  await fundedUser(db.admin, `hs${++n}`, balance),
  await fundedUser(db.admin, `hr${n}`),
];
const hold = (from: number, to: number, amount: string, expiresIn: string | null = '1 day', key?: string) =>
  db.app.query('SELECT * FROM wallet.hold($1, $2, $3::numeric, $4::interval, $5)', [
    from,
    to,
    amount,
    expiresIn,
    key ?? null,
  ]);
const capture = (id: number, amount: string | null = null, key?: string, actor?: number) =>
  db.app.query('SELECT * FROM wallet.capture($1, $2::numeric, $3, $4)', [
    id,
    amount,
    key ?? null,
    actor ?? null,
  ]);
const release = (id: number, actor?: number) =>
  db.app.query('SELECT * FROM wallet.release($1, $2)', [id, actor ?? null]);
const transfer = (from: number, to: number, amount: string) =>
  db.app.query('SELECT * FROM wallet.transfer($1, $2, $3::numeric)', [from, to, amount]);
const balance = async (id: number) =>
  (await db.app.query('SELECT balance, available FROM wallet.balance($1)', [id])).rows[0];
const audit = async () => (await db.admin.query('SELECT * FROM wallet.audit()')).rows;

describe('wallet.hold', () => {
  it('reserves money: balance stays, available drops, and a transfer cannot spend it', async () => {
    const [a, b] = await pair();
    const { rows } = await hold(a, b, '30');
    expect(rows[0]).toMatchObject({ available_balance: '70.00', replayed: false });
    expect(await balance(a)).toEqual({ balance: '100.00', available: '70.00' });
    const e = await expectSqlState(transfer(a, b, '70.01'), SqlState.insufficientFunds);
    expect(e.detail).toBe(`wallet ${a} has 100.00, 30.00 held, 70.00 available; transfer needs 70.01`);
    await transfer(a, b, '70.00');
    expect(await balance(a)).toEqual({ balance: '30.00', available: '0.00' });
    const h = await expectSqlState(hold(a, b, '0.01'), SqlState.insufficientFunds);
    expect(h.detail).toBe(`wallet ${a} has 30.00, 30.00 held, 0.00 available; hold needs 0.01`);
    expect(await audit()).toEqual([]);
  });

  it('refuses bad arguments with their own SQLSTATEs and changes nothing', async () => {
    const [a, b] = await pair();
    await expectSqlState(hold(a, a, '1'), SqlState.sameWallet);
    await expectSqlState(hold(a, b, '0'), SqlState.invalidAmount);
    await expectSqlState(hold(a, b, '1.001'), SqlState.invalidAmount);
    await expectSqlState(hold(a, 999_999, '1'), SqlState.receiverNotFound);
    await expectSqlState(hold(999_999, b, '1'), SqlState.senderNotFound);
    for (const bad of ['0 seconds', '999 milliseconds', '90 days 1 second', '-1 day', null]) {
      const e = await expectSqlState(hold(a, b, '1', bad), SqlState.invalidHoldExpiry);
      expect(e.detail).toContain('expires_in was');
    }
    await expectSqlState(hold(a, b, '1', '1 day', '\u00e9'), SqlState.invalidIdempotencyKey);
    expect(await balance(a)).toEqual({ balance: '100.00', available: '100.00' });
    expect(
      (await db.admin.query('SELECT count(*)::int AS n FROM wallet.holds WHERE sender_id = $1', [a])).rows[0]
        .n,
    ).toBe(0);
  });

  it('replays the same key and refuses it for a different hold', async () => {
    const [a, b] = await pair();
    const first = (await hold(a, b, '10', '1 hour', 'k1')).rows[0];
    const again = (await hold(a, b, '10.00', '3600 seconds', 'k1')).rows[0];
    expect(again).toEqual({ ...first, replayed: true });
    expect(await balance(a)).toEqual({ balance: '100.00', available: '90.00' });
    const e = await expectSqlState(hold(a, b, '11', '1 hour', 'k1'), SqlState.idempotencyKeyReused);
    expect(e.detail).toContain(`hold ${first.hold_id}`);
    await expectSqlState(hold(a, b, '10', '2 hours', 'k1'), SqlState.idempotencyKeyReused);
  });
});

describe('wallet.capture', () => {
  it('moves the held amount as a transaction of kind capture, with its receipt, and closes the hold', async () => {
    const [a, b] = await pair();
    const id = (await hold(a, b, '40')).rows[0].hold_id;
    const { rows } = await capture(id);
    expect(rows[0]).toMatchObject({ sender_balance: '60.00', receiver_balance: '40.00', replayed: false });
    const t = rows[0].transaction_id;
    const tx = await db.admin.query('SELECT kind, amount FROM wallet.transactions WHERE id = $1', [t]);
    expect(tx.rows[0]).toEqual({ kind: 'capture', amount: '40.00' });
    const doc = await db.admin.query('SELECT kind, hold_id FROM wallet.receipt_document($1)', [t]);
    expect(doc.rows[0]).toEqual({ kind: 'capture', hold_id: id });
    const r = await db.admin.query('SELECT status FROM wallet.receipts WHERE transaction_id = $1', [t]);
    expect(r.rows[0].status).toBe('pending');
    expect(await balance(a)).toEqual({ balance: '60.00', available: '60.00' });
    const closed = await expectSqlState(capture(id), SqlState.holdClosed);
    expect(closed.message).toBe('hold is already captured');
    await expectSqlState(release(id), SqlState.holdClosed);
    expect(await audit()).toEqual([]);
  });

  it('captures part once and releases the rest', async () => {
    const [a, b] = await pair();
    const other = (await hold(a, b, '5', '2 days')).rows[0].hold_id;
    const id = (await hold(a, b, '40')).rows[0].hold_id;
    expect((await capture(id, '15.50')).rows[0].sender_balance).toBe('84.50');
    expect(await balance(a)).toEqual({ balance: '84.50', available: '79.50' });
    const view = await db.app.query('SELECT status, captured_amount FROM wallet.hold_for($1, $2)', [b, id]);
    expect(view.rows[0]).toEqual({ status: 'captured', captured_amount: '15.50' });
    expect((await release(other)).rows[0]).toEqual({ hold_id: other, status: 'released' });
    expect(await balance(a)).toEqual({ balance: '84.50', available: '84.50' });
    expect(await audit()).toEqual([]);
  });

  it('refuses more than the hold, a bad amount, an unknown hold, and acts only for the receiver', async () => {
    const [a, b] = await pair();
    const c = await fundedUser(db.admin, `outsider${n}`);
    const id = (await hold(a, b, '10')).rows[0].hold_id;
    const e = await expectSqlState(capture(id, '10.01'), SqlState.captureExceedsHold);
    expect(e.detail).toBe(`hold ${id} is for 10.00, capture asks 10.01`);
    await expectSqlState(capture(id, '0'), SqlState.invalidAmount);
    await expectSqlState(capture(id, '1.001'), SqlState.invalidAmount);
    await expectSqlState(capture(9_999_999), SqlState.holdNotFound);
    await expectSqlState(release(9_999_999), SqlState.holdNotFound);
    await expectSqlState(capture(id, null, undefined, c), SqlState.holdNotFound);
    await expectSqlState(release(id, c), SqlState.holdNotFound);
    const s = await expectSqlState(capture(id, null, undefined, a), SqlState.notHoldReceiver);
    expect(s.detail).toBe(`user ${a} is the sender of hold ${id}`);
    await expectSqlState(release(id, a), SqlState.notHoldReceiver);
    expect(await balance(a)).toEqual({ balance: '100.00', available: '90.00' });
    expect((await capture(id, '10', undefined, b)).rows[0].receiver_balance).toBe('10.00');
  });

  it('refuses a capture that would pass the receiver maximum balance', async () => {
    const [a, b] = await pair();
    const id = (await hold(a, b, '100')).rows[0].hold_id;
    // Inside a transaction that is rolled back: the receiver near the maximum without real deposits.
    const c = await db.client();
    await c.query('BEGIN');
    await c.query('UPDATE wallet.wallets SET balance = 999999999999999900.00 WHERE user_id = $1', [b]);
    await c.query('SAVEPOINT s');
    await expectSqlState(c.query('SELECT * FROM wallet.capture($1)', [id]), SqlState.balanceOverLimit);
    await c.query('ROLLBACK TO s');
    const { rows } = await c.query('SELECT * FROM wallet.capture($1, 99.99)', [id]);
    expect(rows[0].receiver_balance).toBe('999999999999999999.99');
    await c.query('ROLLBACK');
  });

  it('replays a capture key, and refuses it for another hold or amount', async () => {
    const [a, b] = await pair();
    const id = (await hold(a, b, '20')).rows[0].hold_id;
    const first = (await capture(id, '12', 'cap-1')).rows[0];
    expect((await capture(id, '12.00', 'cap-1')).rows[0]).toEqual({ ...first, replayed: true });
    await expectSqlState(capture(id, '13', 'cap-1'), SqlState.idempotencyKeyReused);
    const next = (await hold(a, b, '1')).rows[0].hold_id;
    await expectSqlState(capture(next, null, 'cap-1'), SqlState.idempotencyKeyReused);
    await expectSqlState(capture(id, '12', 'cap-2'), SqlState.holdClosed); // a new key on a closed hold
    expect(await balance(a)).toEqual({ balance: '88.00', available: '87.00' });
  });
});

describe('a key in use by another open transaction', () => {
  it('is W1011 at once for a hold key and for a capture key', async () => {
    const [a, b] = await pair();
    const id = (await hold(a, b, '5')).rows[0].hold_id;
    const first = await db.client('wallet_app');
    await first.query('BEGIN');
    await first.query("SELECT * FROM wallet.hold($1, $2, 1, '1 day', 'busy')", [a, b]);
    await first.query("SELECT * FROM wallet.capture($1, NULL, 'busy')", [id]);
    await expectSqlState(hold(a, b, '1', '1 day', 'busy'), SqlState.idempotencyKeyInUse);
    await expectSqlState(capture(id, null, 'busy'), SqlState.idempotencyKeyInUse);
    await first.query('ROLLBACK');
    expect((await hold(a, b, '1', '1 day', 'busy')).rows[0].replayed).toBe(false);
  });
});

describe('expiry', () => {
  it('makes the money available the moment it expires, without a sweep, and the hold uncapturable', async () => {
    const [a, b] = await pair('10.00');
    const id = (await hold(a, b, '10', '1 second')).rows[0].hold_id;
    await expectSqlState(transfer(a, b, '1'), SqlState.insufficientFunds);
    const { rows } = await db.admin.query('SELECT expires_at FROM wallet.holds WHERE id = $1', [id]);
    await new Promise((resolve) => setTimeout(resolve, rows[0].expires_at.getTime() - Date.now() + 5));
    // Readers see it expired before anything has written it.
    expect(await balance(a)).toEqual({ balance: '10.00', available: '10.00' });
    expect((await db.app.query('SELECT status FROM wallet.hold_for($1, $2)', [a, id])).rows[0].status).toBe(
      'expired',
    );
    expect((await db.admin.query('SELECT status FROM wallet.holds WHERE id = $1', [id])).rows[0].status).toBe(
      'open',
    );
    expect(await audit()).toEqual([]);
    const e = await expectSqlState(capture(id), SqlState.holdClosed);
    expect(e.message).toBe('hold is already expired');
    await expectSqlState(release(id), SqlState.holdClosed);
    await transfer(a, b, '10'); // spendable at once: this call expires the hold under the wallet lock
    const after = await db.admin.query(
      'SELECT status, closed_at = expires_at AS at_expiry FROM wallet.holds WHERE id = $1',
      [id],
    );
    expect(after.rows[0]).toEqual({ status: 'expired', at_expiry: true });
    expect(await audit()).toEqual([]);
  });

  it('the sweep marks due holds expired for bookkeeping and leaves the books right', async () => {
    const [a, b] = await pair('10.00');
    await hold(a, b, '4', '1 second');
    const later = (await hold(a, b, '5', '1 day')).rows[0];
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(
      (await db.admin.query('SELECT wallet.sweep_expired_holds() AS n')).rows[0].n,
    ).toBeGreaterThanOrEqual(1);
    const w = await db.admin.query('SELECT held, holds_expire_at FROM wallet.wallets WHERE user_id = $1', [
      a,
    ]);
    expect(w.rows[0]).toEqual({ held: '5.00', holds_expire_at: later.expires_at });
    expect(await audit()).toEqual([]);
  });
});

describe('the database guards holds', () => {
  it('refuses changing terms, reopening, closing twice, DELETE and TRUNCATE, even for a superuser', async () => {
    const [a, b] = await pair();
    const id = (await hold(a, b, '1')).rows[0].hold_id;
    const q = (sql: string) => db.admin.query(sql, [id]);
    await expectSqlState(q('UPDATE wallet.holds SET amount = 2 WHERE id = $1'), SqlState.holdImmutable);
    await expectSqlState(
      q("UPDATE wallet.holds SET expires_at = expires_at + interval '1 day' WHERE id = $1"),
      SqlState.holdImmutable,
    );
    await expectSqlState(q('DELETE FROM wallet.holds WHERE id = $1'), SqlState.holdImmutable);
    await expectSqlState(db.admin.query('TRUNCATE wallet.holds'), SqlState.holdImmutable);
    await release(id);
    await expectSqlState(
      q("UPDATE wallet.holds SET status = 'open', closed_at = NULL WHERE id = $1"),
      SqlState.holdImmutable,
    );
    await expectSqlState(
      q("UPDATE wallet.holds SET status = 'expired' WHERE id = $1"),
      SqlState.holdImmutable,
    );
    await expectSqlState(
      db.app.query("UPDATE wallet.holds SET status = 'released' WHERE id = $1", [id]),
      '42501',
    );
    await expectSqlState(db.app.query('UPDATE wallet.wallets SET held = 0 WHERE user_id = $1', [a]), '42501');
  });

  it('refuses more held than the balance even from a direct UPDATE', async () => {
    const [a] = await pair('1.00');
    await expectSqlState(
      db.admin.query('UPDATE wallet.wallets SET held = 1.01 WHERE user_id = $1', [a]),
      '23514',
    );
  });

  it('audit() reports a cached total that disagrees with the open holds', async () => {
    const [a, b] = await pair();
    await hold(a, b, '3');
    await db.admin.query('UPDATE wallet.wallets SET held = 2 WHERE user_id = $1', [a]);
    expect((await audit()).map((r) => [r.problem, r.user_id])).toEqual([['held_mismatch', a]]);
    await db.admin.query('UPDATE wallet.wallets SET held = 3 WHERE user_id = $1', [a]);
    expect(await audit()).toEqual([]);
  });
});
