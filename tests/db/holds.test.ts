// wallet.hold, capture and release: the happy paths and every SQLSTATE they raise, on a real PostgreSQL.
import { beforeAll, describe, expect, it } from 'vitest';
import { SqlState } from '../../src/db/sqlstate.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import { holdCalls } from '../helpers/holds.js';
import { expectSqlState } from '../helpers/sql-errors.js';

let db: TestDatabase;
let calls: ReturnType<typeof holdCalls>;
beforeAll(async () => {
  db = await createTestDatabase();
  calls = holdCalls(db);
});
const pair = (balance?: string) => calls.pair(balance);
const hold = (...args: Parameters<typeof calls.hold>) => calls.hold(...args);
const capture = (...args: Parameters<typeof calls.capture>) => calls.capture(...args);
const release = (...args: Parameters<typeof calls.release>) => calls.release(...args);
const transfer = (...args: Parameters<typeof calls.transfer>) => calls.transfer(...args);
const balance = (id: number) => calls.balance(id);
const audit = () => calls.audit();

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
    const c = await fundedUser(db.admin, `outsider${a}`);
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
