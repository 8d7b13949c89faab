// Every SQL function's happy path and every error it raises, checked by SQLSTATE.
import { beforeAll, describe, expect, it } from 'vitest';
import { SqlState } from '../../src/db/sqlstate.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import { expectSqlState } from '../helpers/sql-errors.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});

const transfer = (from: number, to: number, amount: string, key?: string) =>
  db.app.query('SELECT * FROM wallet.transfer($1, $2, $3::numeric, $4)', [from, to, amount, key ?? null]);
const balanceOf = async (id: number) =>
  (await db.admin.query('SELECT balance FROM wallet.wallets WHERE user_id = $1', [id])).rows[0]
    .balance as string;

describe('wallet.create_user', () => {
  it('creates a user whose wallet opens at 0.00', async () => {
    const { rows } = await db.app.query("SELECT wallet.create_user('Carol', NULL) AS id");
    expect(rows[0].id).toBeGreaterThan(0);
    expect(await balanceOf(rows[0].id)).toBe('0.00');
  });

  it('refuses a name taken in another case', async () => {
    await db.app.query("SELECT wallet.create_user('dave', NULL)");
    const e = await expectSqlState(
      db.app.query("SELECT wallet.create_user('DAVE', NULL)"),
      SqlState.usernameTaken,
    );
    expect(e.detail).toContain('DAVE');
  });

  it.each(['', ' padded', 'tab\there', 'x'.repeat(151)])('refuses the username %j', async (name) => {
    await expectSqlState(
      db.app.query('SELECT wallet.create_user($1, NULL)', [name]),
      SqlState.invalidUsername,
    );
  });

  it('sets a password, and refuses an unknown user', async () => {
    await db.app.query("SELECT wallet.create_user('erin', NULL)");
    const { rows } = await db.app.query("SELECT wallet.set_password('ERIN', 'hash') AS id");
    const creds = await db.app.query("SELECT * FROM wallet.user_credentials('erin')");
    expect(creds.rows[0]).toMatchObject({ user_id: rows[0].id, username: 'erin', password_hash: 'hash' });
    await expectSqlState(db.app.query("SELECT wallet.set_password('nobody', 'h')"), SqlState.userNotFound);
  });
});

describe('wallet.transfer', () => {
  it('moves money and returns one row', async () => {
    const a = await fundedUser(db.admin, 'ta1', '100.00');
    const b = await fundedUser(db.admin, 'tb1');
    const { rows } = await transfer(a, b, '50');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ sender_balance: '50.00', receiver_balance: '50.00', replayed: false });
    expect(await balanceOf(a)).toBe('50.00');
    expect(await balanceOf(b)).toBe('50.00');
    const receipt = await db.admin.query('SELECT status FROM wallet.receipts WHERE transaction_id = $1', [
      rows[0].transaction_id,
    ]);
    expect(receipt.rows[0].status).toBe('pending');
  });

  it('can spend a balance down to exactly 0.00', async () => {
    const a = await fundedUser(db.admin, 'ta2', '0.01');
    const b = await fundedUser(db.admin, 'tb2');
    await transfer(a, b, '0.01');
    expect(await balanceOf(a)).toBe('0.00');
  });

  it('refuses insufficient funds with a DETAIL naming the wallet and amounts', async () => {
    const a = await fundedUser(db.admin, 'ta3', '10.00');
    const b = await fundedUser(db.admin, 'tb3');
    const e = await expectSqlState(transfer(a, b, '50'), SqlState.insufficientFunds);
    expect(e.message).toBe('insufficient funds');
    expect(e.detail).toBe(`wallet ${a} has 10.00, 0.00 held, 10.00 available; transfer needs 50.00`);
    expect(await balanceOf(a)).toBe('10.00');
  });

  it('refuses an unknown sender, an unknown receiver and the same wallet', async () => {
    const a = await fundedUser(db.admin, 'ta4', '10.00');
    await expectSqlState(transfer(999_999, a, '1'), SqlState.senderNotFound);
    await expectSqlState(transfer(a, 999_999, '1'), SqlState.receiverNotFound);
    await expectSqlState(transfer(a, a, '1'), SqlState.sameWallet);
  });

  it.each(['0', '-1', '0.001', '1000000000000.01', '1.999'])('refuses the amount %s', async (amount) => {
    const a = await fundedUser(db.admin, `amt${amount}`, '10.00');
    const b = await fundedUser(db.admin, `amt_to${amount}`);
    await expectSqlState(transfer(a, b, amount), SqlState.invalidAmount);
    expect(await balanceOf(a)).toBe('10.00');
  });

  it('refuses a NULL amount', async () => {
    const a = await fundedUser(db.admin, 'tnull', '10.00');
    const b = await fundedUser(db.admin, 'tnull_to');
    await expectSqlState(
      db.app.query('SELECT * FROM wallet.transfer($1, $2, NULL)', [a, b]),
      SqlState.invalidAmount,
    );
  });

  it('accepts the largest amount', async () => {
    const a = await fundedUser(db.admin, 'big', '1000000000000.00');
    const b = await fundedUser(db.admin, 'big_to');
    const { rows } = await transfer(a, b, '1000000000000.00');
    expect(rows[0].receiver_balance).toBe('1000000000000.00');
  });

  it('refuses a receiver balance beyond what the column holds, without moving money', async () => {
    const a = await fundedUser(db.admin, 'rich_from', '1.00');
    const b = await fundedUser(db.admin, 'rich_to');
    await db.admin.query('UPDATE wallet.wallets SET balance = 999999999999999999.50 WHERE user_id = $1', [b]);
    await expectSqlState(transfer(a, b, '1.00'), SqlState.balanceOverLimit);
    await expectSqlState(db.app.query('SELECT * FROM wallet.deposit($1, 1)', [b]), SqlState.balanceOverLimit);
    await db.admin.query('UPDATE wallet.wallets SET balance = 0 WHERE user_id = $1', [b]);
    expect(await balanceOf(a)).toBe('1.00');
  });
});

describe('idempotency keys', () => {
  it('replays the original row for the same key and arguments, moving nothing', async () => {
    const a = await fundedUser(db.admin, 'ia1', '100.00');
    const b = await fundedUser(db.admin, 'ib1');
    const first = (await transfer(a, b, '30', 'k-1')).rows[0];
    await transfer(a, b, '5'); // a later transfer must not change what the replay reports
    const again = (await transfer(a, b, '30.00', 'k-1')).rows[0];
    expect(again).toMatchObject({ ...first, replayed: true });
    expect(await balanceOf(a)).toBe('65.00');
  });

  it('refuses the same key with other arguments', async () => {
    const a = await fundedUser(db.admin, 'ia2', '100.00');
    const b = await fundedUser(db.admin, 'ib2');
    const c = await fundedUser(db.admin, 'ic2');
    await transfer(a, b, '30', 'k-2');
    await expectSqlState(transfer(a, b, '31', 'k-2'), SqlState.idempotencyKeyReused);
    await expectSqlState(transfer(a, c, '30', 'k-2'), SqlState.idempotencyKeyReused);
    await expectSqlState(
      db.app.query("SELECT * FROM wallet.deposit($1, 30, 'k-2')", [a]),
      SqlState.idempotencyKeyReused,
    );
    expect(await balanceOf(a)).toBe('70.00');
  });

  it('scopes keys to the user who made the request', async () => {
    const a = await fundedUser(db.admin, 'ia3', '100.00');
    const b = await fundedUser(db.admin, 'ib3', '100.00');
    await transfer(a, b, '1', 'shared');
    const { rows } = await transfer(b, a, '1', 'shared');
    expect(rows[0].replayed).toBe(false);
  });

  it.each(['', 'x'.repeat(256), 'naïve', 'tab\tkey'])('refuses the key %j', async (key) => {
    const a = await fundedUser(db.admin, `ik${key.length}${key.charCodeAt(0) || 0}`, '10.00');
    await expectSqlState(
      db.app.query('SELECT * FROM wallet.deposit($1, 1, $2)', [a, key]),
      SqlState.invalidIdempotencyKey,
    );
  });
});

describe('wallet.deposit', () => {
  it('credits the wallet and replays with a key', async () => {
    const a = await fundedUser(db.admin, 'd1');
    const first = (await db.app.query("SELECT * FROM wallet.deposit($1, 100, 'dk')", [a])).rows[0];
    expect(first).toMatchObject({ balance: '100.00', replayed: false });
    const again = (await db.app.query("SELECT * FROM wallet.deposit($1, 100.00, 'dk')", [a])).rows[0];
    expect(again).toMatchObject({ transaction_id: first.transaction_id, replayed: true });
    expect(await balanceOf(a)).toBe('100.00');
  });

  it('refuses an unknown wallet and a bad amount', async () => {
    await expectSqlState(db.app.query('SELECT * FROM wallet.deposit(999999, 1)'), SqlState.receiverNotFound);
    const a = await fundedUser(db.admin, 'd2');
    await expectSqlState(
      db.app.query('SELECT * FROM wallet.deposit($1, 0.005)', [a]),
      SqlState.invalidAmount,
    );
  });
});

describe('history and receipts as a party sees them', () => {
  it('lists sent and received newest first, with keyset pagination', async () => {
    const a = await fundedUser(db.admin, 'h1', '100.00');
    const b = await fundedUser(db.admin, 'h2', '100.00');
    const t1 = (await transfer(a, b, '1')).rows[0].transaction_id;
    const t2 = (await transfer(b, a, '2')).rows[0].transaction_id;
    const all = (await db.app.query('SELECT * FROM wallet.history($1, 10, NULL)', [a])).rows;
    expect(all.map((r) => [r.id, r.kind, r.direction, r.counterparty_id, r.amount])).toEqual([
      [t2, 'transfer', 'received', b, '2.00'],
      [t1, 'transfer', 'sent', b, '1.00'],
      [all[2].id, 'deposit', 'received', null, '100.00'],
    ]);
    const page = (await db.app.query('SELECT * FROM wallet.history($1, 1, $2)', [a, t2])).rows;
    expect(page.map((r) => r.id)).toEqual([t1]);
  });

  it('shows a transaction and its receipt only to its parties', async () => {
    const a = await fundedUser(db.admin, 'p1', '10.00');
    const b = await fundedUser(db.admin, 'p2');
    const c = await fundedUser(db.admin, 'p3');
    const id = (await transfer(a, b, '1')).rows[0].transaction_id;
    for (const party of [a, b]) {
      expect((await db.app.query('SELECT * FROM wallet.transaction_for($1, $2)', [party, id])).rowCount).toBe(
        1,
      );
      expect(
        (await db.app.query('SELECT * FROM wallet.receipt_for($1, $2)', [party, id])).rows[0].status,
      ).toBe('pending');
    }
    expect((await db.app.query('SELECT * FROM wallet.transaction_for($1, $2)', [c, id])).rowCount).toBe(0);
    expect((await db.app.query('SELECT * FROM wallet.receipt_for($1, $2)', [c, id])).rowCount).toBe(0);
  });
});

describe('wallet.audit (a DBA tool: the schema owner runs it)', () => {
  it('is empty for consistent books and names each disagreement', async () => {
    expect((await db.admin.query('SELECT * FROM wallet.audit()')).rows).toEqual([]);
    const a = await fundedUser(db.admin, 'au1', '10.00');
    const tx = (await db.app.query('SELECT * FROM wallet.deposit($1, 1)', [a])).rows[0].transaction_id;
    // A DBA bypassing the functions: exactly what audit exists to catch. (Before the deposit, the bumped
    // balance would be written into the hash chain's entry for good.)
    await db.admin.query('UPDATE wallet.wallets SET balance = balance + 1 WHERE user_id = $1', [a]);
    await db.admin.query('DELETE FROM wallet.receipts WHERE transaction_id = $1', [tx]);
    const problems = (
      await db.admin.query('SELECT problem, user_id, transaction_id FROM wallet.audit() ORDER BY 1, 3')
    ).rows;
    expect(problems).toEqual([
      { problem: 'balance_mismatch', user_id: a, transaction_id: tx }, // the chain's: its head says 11.00
      { problem: 'balance_mismatch', user_id: a, transaction_id: null },
      { problem: 'missing_receipt', user_id: a, transaction_id: tx },
      { problem: 'total_mismatch', user_id: null, transaction_id: null },
    ]);
    // Put the books right again for the other tests in this file.
    await db.admin.query('UPDATE wallet.wallets SET balance = balance - 1 WHERE user_id = $1', [a]);
    await db.admin.query('INSERT INTO wallet.receipts (transaction_id) VALUES ($1)', [tx]);
    expect((await db.admin.query('SELECT * FROM wallet.audit()')).rows).toEqual([]);
  });
});
