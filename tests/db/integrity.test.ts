// Rules the database enforces by itself: append-only history, no deletion of anything with history, and an
// application role that can only go through the functions.
import { beforeAll, describe, expect, it } from 'vitest';
import { SqlState } from '../../src/db/sqlstate.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import { waitForLockWaiters } from '../helpers/row-locks.js';
import { expectSqlState } from '../helpers/sql-errors.js';

let db: TestDatabase;
let alice: number;
let bob: number;
let txId: number;
beforeAll(async () => {
  db = await createTestDatabase();
  alice = await fundedUser(db.admin, 'alice', '100.00');
  bob = await fundedUser(db.admin, 'bob');
  txId = (await db.admin.query('SELECT * FROM wallet.transfer($1, $2, 10)', [alice, bob])).rows[0]
    .transaction_id;
});

describe('transactions are append-only, even for a superuser', () => {
  it.each([
    ['UPDATE', 'UPDATE wallet.transactions SET amount = 1 WHERE id = $1'],
    ['DELETE', 'DELETE FROM wallet.transactions WHERE id = $1'],
  ])('%s fails', async (_op, sql) => {
    const e = await expectSqlState(db.admin.query(sql, [txId]), SqlState.appendOnly);
    expect(e.message).toBe('transactions are append-only');
  });

  it('TRUNCATE fails', async () => {
    await expectSqlState(db.admin.query('TRUNCATE wallet.transactions CASCADE'), SqlState.appendOnly);
    expect((await db.admin.query('SELECT count(*)::int AS n FROM wallet.transactions')).rows[0].n).toBe(2);
  });
});

/** The DELETE of this file's database waits on a lock (another file's DELETE does not count); fails after 20 s. */
const waitForLockedDelete = () => waitForLockWaiters(db.admin, 1, 'DELETE FROM wallet.wallets%');

describe('nothing with history can be deleted', () => {
  it('refuses to delete a wallet or a user with transactions', async () => {
    // 23001 restrict_violation: a trigger guards wallets with history, ON DELETE RESTRICT guards users.
    await expectSqlState(db.admin.query('DELETE FROM wallet.wallets WHERE user_id = $1', [bob]), '23001');
    await expectSqlState(db.admin.query('DELETE FROM wallet.users WHERE id = $1', [alice]), '23001');
  });

  it('refuses to truncate wallets while history exists, and still deletes a wallet without history', async () => {
    await expectSqlState(db.admin.query('TRUNCATE wallet.wallets CASCADE'), '23001');
    const idle = await fundedUser(db.admin, 'idle');
    await db.admin.query('DELETE FROM wallet.wallets WHERE user_id = $1', [idle]);
    await db.admin.query('DELETE FROM wallet.users WHERE id = $1', [idle]);
    expect((await db.admin.query('SELECT * FROM wallet.audit()')).rows).toEqual([]);
  });

  it('refuses to delete a wallet whose only history is a transfer committed while the delete waited', async () => {
    const payee = await fundedUser(db.admin, 'late_payee');
    const mover = await db.client();
    await mover.query('BEGIN');
    await mover.query('SELECT * FROM wallet.transfer($1, $2, 1)', [alice, payee]);
    const deleting = db.admin.query('DELETE FROM wallet.wallets WHERE user_id = $1', [payee]);
    // Its outcome is awaited from now on: the refusal arrives with the COMMIT, before the next line runs.
    const refused = expectSqlState(deleting, '23001');
    await waitForLockedDelete();
    await mover.query('COMMIT');
    await refused;
  });

  it('refuses a negative balance even from a direct UPDATE', async () => {
    await expectSqlState(
      db.admin.query('UPDATE wallet.wallets SET balance = -0.01 WHERE user_id = $1', [bob]),
      '23514',
    );
  });
});

describe('the application role wallet_app', () => {
  it.each([
    ['update a balance', 'UPDATE wallet.wallets SET balance = 1000000 WHERE user_id = $1'],
    [
      'insert a transaction',
      "INSERT INTO wallet.transactions (kind, receiver_id, amount, receiver_balance_after) VALUES ('deposit', $1, 5, 5)",
    ],
    ['update a transaction', 'UPDATE wallet.transactions SET amount = 1 WHERE receiver_id = $1'],
    ['delete a transaction', 'DELETE FROM wallet.transactions WHERE receiver_id = $1'],
    ['mark a receipt rendered', "UPDATE wallet.receipts SET status = 'rendered' WHERE transaction_id = $1"],
    ['read password hashes', 'SELECT password_hash FROM wallet.users WHERE id = $1'],
    ['create a user directly', "INSERT INTO wallet.users (username) VALUES ('x' || $1::text)"],
    ['call the trigger function', 'SELECT wallet.reject_transaction_change() WHERE $1::int IS NULL'],
  ])('cannot %s', async (_what, sql) => {
    await expectSqlState(db.app.query(sql, [bob]), '42501');
  });

  it('can read balances and history, and move money through the functions', async () => {
    const { rows } = await db.app.query('SELECT * FROM wallet.balance($1)', [bob]);
    expect(rows[0]).toMatchObject({ username: 'bob', balance: '10.00' });
    const count = async () =>
      (await db.app.query('SELECT count(*)::int AS n FROM wallet.transactions')).rows[0].n as number;
    const before = await count();
    await db.app.query('SELECT * FROM wallet.transfer($1, $2, 1)', [bob, alice]);
    expect(await count()).toBe(before + 1);
  });
});
