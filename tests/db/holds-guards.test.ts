// Holds: expiry without a sweep, keys in use, and what the database itself refuses to do to a hold.
import { beforeAll, describe, expect, it } from 'vitest';
import { SqlState } from '../../src/db/sqlstate.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { holdCalls, waitPastExpiry } from '../helpers/holds.js';
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
    await waitPastExpiry(db.admin, id);
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
    const soon = (await hold(a, b, '4', '1 second')).rows[0].hold_id;
    const later = (await hold(a, b, '5', '1 day')).rows[0];
    await waitPastExpiry(db.admin, soon);
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
    await expectSqlState(
      db.app.query('SELECT wallet.guard_hold_change() WHERE $1::int IS NULL', [a]),
      '42501',
    );
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
