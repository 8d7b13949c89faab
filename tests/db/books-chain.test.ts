// Every money movement appends, for each wallet it touches, that wallet's next chained entry; the wallet row
// keeps the head; entries are append-only even for a superuser; wallet.verify() and wallet.audit() are
// silent on intact books.
import { beforeAll, describe, expect, it } from 'vitest';
import { SqlState } from '../../src/db/sqlstate.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import { expectSqlState } from '../helpers/sql-errors.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});

let serial = 0;
const user = (amount = '0.00') => fundedUser(db.admin, `chain${++serial}`, amount);

interface EntryRow {
  entry: number;
  transaction_id: number;
  kind: string;
  counterparty_id: number | null;
  amount: string;
  balance_after: string;
}
const entriesOf = async (id: number) =>
  (
    await db.admin.query<EntryRow>(
      `SELECT entry, transaction_id, kind, counterparty_id, amount, balance_after
         FROM wallet.entries WHERE user_id = $1 ORDER BY entry`,
      [id],
    )
  ).rows;
const verify = async () => (await db.admin.query('SELECT * FROM wallet.verify()')).rows;
const audit = async () => (await db.admin.query('SELECT * FROM wallet.audit()')).rows;

describe('entries', () => {
  it('a deposit and a transfer each append one entry per wallet, numbered 1, 2, 3 with balances after', async () => {
    const a = await user('100.00');
    const b = await user();
    const t = (await db.app.query('SELECT * FROM wallet.transfer($1, $2, 30)', [a, b])).rows[0];
    expect(await entriesOf(a)).toEqual([
      expect.objectContaining({ entry: 1, kind: 'deposit', counterparty_id: null, amount: '100.00' }),
      {
        entry: 2,
        transaction_id: t.transaction_id,
        kind: 'transfer',
        counterparty_id: b,
        amount: '-30.00',
        balance_after: '70.00',
      },
    ]);
    expect(await entriesOf(b)).toEqual([
      {
        entry: 1,
        transaction_id: t.transaction_id,
        kind: 'transfer',
        counterparty_id: a,
        amount: '30.00',
        balance_after: '30.00',
      },
    ]);
    const head = (await db.app.query('SELECT * FROM wallet.chain_head($1)', [a])).rows[0];
    const last = (
      await db.admin.query(
        "SELECT encode(hash, 'hex') AS hash FROM wallet.entries WHERE user_id = $1 AND entry = 2",
        [a],
      )
    ).rows[0];
    expect(head).toEqual({ entry: 2, hash: last.hash, balance: '70.00' });
    expect(await verify()).toEqual([]);
  });

  it('a wallet without entries has entry 0 and its genesis hash as head', async () => {
    const a = await user();
    const head = (await db.app.query('SELECT * FROM wallet.chain_head($1)', [a])).rows[0];
    const genesis = (
      await db.admin.query("SELECT encode(sha256(convert_to('genesis|' || $1::text, 'UTF8')), 'hex') AS h", [
        a,
      ])
    ).rows[0].h;
    expect(head).toEqual({ entry: 0, hash: genesis, balance: '0.00' });
    expect(
      (await db.admin.query('SELECT wallet.verify_head($1, 0, $2) AS ok', [a, genesis])).rows[0].ok,
    ).toBe(true);
  });

  it('a batch chains every item on the sender and on each receiver, in item order', async () => {
    const a = await user('100.00');
    const b = await user();
    const c = await user();
    const rows = (
      await db.app.query('SELECT * FROM wallet.transfer_batch($1, $2::bigint[], $3::numeric[])', [
        a,
        [b, c, b],
        ['1.00', '2.00', '3.00'],
      ])
    ).rows;
    expect((await entriesOf(a)).map((e) => [e.entry, e.transaction_id, e.amount, e.balance_after])).toEqual([
      [1, expect.any(Number), '100.00', '100.00'],
      [2, rows[0].transaction_id, '-1.00', '99.00'],
      [3, rows[1].transaction_id, '-2.00', '97.00'],
      [4, rows[2].transaction_id, '-3.00', '94.00'],
    ]);
    expect((await entriesOf(b)).map((e) => [e.entry, e.transaction_id, e.balance_after])).toEqual([
      [1, rows[0].transaction_id, '1.00'],
      [2, rows[2].transaction_id, '4.00'],
    ]);
    expect(await verify()).toEqual([]);
  });

  it('a hold changes no chain; its capture appends to both', async () => {
    const a = await user('50.00');
    const b = await user();
    const h = (await db.app.query('SELECT * FROM wallet.hold($1, $2, 20)', [a, b])).rows[0];
    expect(await entriesOf(a)).toHaveLength(1);
    const c = (await db.app.query('SELECT * FROM wallet.capture($1, 15)', [h.hold_id])).rows[0];
    expect((await entriesOf(a)).at(-1)).toMatchObject({
      entry: 2,
      transaction_id: c.transaction_id,
      kind: 'capture',
      amount: '-15.00',
      balance_after: '35.00',
    });
    expect((await entriesOf(b)).at(-1)).toMatchObject({ entry: 1, kind: 'capture', balance_after: '15.00' });
    expect(await verify()).toEqual([]);
  });

  it('entry times never go backwards with the entry number', async () => {
    const { rows } = await db.admin.query(
      `SELECT count(*)::int AS n FROM (
         SELECT created_at < lag(created_at) OVER (PARTITION BY user_id ORDER BY entry) AS back FROM wallet.entries) x
        WHERE back`,
    );
    expect(rows[0].n).toBe(0);
  });

  it('entries are append-only, even for a superuser', async () => {
    const a = await user('5.00');
    await expectSqlState(
      db.admin.query('UPDATE wallet.entries SET amount = 6 WHERE user_id = $1', [a]),
      SqlState.appendOnly,
    );
    await expectSqlState(
      db.admin.query('DELETE FROM wallet.entries WHERE user_id = $1', [a]),
      SqlState.appendOnly,
    );
    await expectSqlState(db.admin.query('TRUNCATE wallet.entries'), SqlState.appendOnly);
    await expectSqlState(
      db.app.query("INSERT INTO wallet.entries VALUES ($1, 99, 1, 'deposit', NULL, 1, 1, now(), '\\x00')", [
        a,
      ]),
      '42501',
    );
  });

  it('audit() is silent on intact books', async () => {
    expect(await audit()).toEqual([]);
  });
});
