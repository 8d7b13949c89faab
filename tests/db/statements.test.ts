// The statement PDFs' SQL (db/procedures/statements.sql), as the worker role calls it: only a closed period is
// stored, the first PDF wins, a stored statement never changes, the period closes only once movements in
// flight on the wallet have committed, and the monthly run's page of wallets.
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import { waitForLockWaiters } from '../helpers/row-locks.js';
import { expectSqlState } from '../helpers/sql-errors.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});

const PDF = Buffer.from('%PDF-1.4 a stand-in');
const store = (user: number, from: string, to: string, pdf = PDF, by = 'run-1') =>
  db.worker.query('SELECT * FROM wallet.store_statement_pdf($1, $2, $3, $4, 0, NULL, $5)', [
    user,
    from,
    to,
    pdf,
    by,
  ]);

describe('statement storage', () => {
  it('stores a closed period once: the first PDF wins, its renderer is told stored_now', async () => {
    const alice = await fundedUser(db.admin, 'alice');
    const first = (await store(alice, '2026-10-01Z', '2026-11-01Z')).rows[0];
    expect(first).toMatchObject({ pdf_size: PDF.length, stored_now: true });
    // The same run again (a retried activity): still its own. Another run: the stored one, not stored now.
    expect((await store(alice, '2026-10-01Z', '2026-11-01Z')).rows[0]).toMatchObject({ stored_now: true });
    const other = (await store(alice, '2026-10-01Z', '2026-11-01Z', Buffer.from('%PDF other'), 'run-2'))
      .rows[0];
    expect(other).toMatchObject({ stored_now: false, pdf_sha256: first.pdf_sha256 });
    const served = await db.app.query('SELECT * FROM wallet.statement_pdf_for($1, $2, $3)', [
      alice,
      '2026-10-01Z',
      '2026-11-01Z',
    ]);
    expect(Buffer.from(served.rows[0].pdf).equals(PDF)).toBe(true);
  });

  it('refuses an open period (W1050), an empty PDF, and any change to a stored statement (W1010)', async () => {
    const bob = await fundedUser(db.admin, 'bob');
    const future = new Date(Date.now() + 60_000).toISOString();
    await expectSqlState(store(bob, '2026-10-01Z', future), 'W1050');
    await expectSqlState(store(bob, '2026-09-01Z', '2026-10-01Z', Buffer.alloc(0)), 'W1015');
    await store(bob, '2026-09-01Z', '2026-10-01Z');
    await expectSqlState(
      db.admin.query('UPDATE wallet.statements SET pdf = $1', [Buffer.from('x')]),
      'W1010',
    );
    await expectSqlState(db.admin.query('DELETE FROM wallet.statements WHERE user_id = $1', [bob]), 'W1010');
    await expectSqlState(db.admin.query('TRUNCATE wallet.statements'), 'W1010');
  });

  it('the API role cannot store, the worker role cannot serve', async () => {
    const carol = await fundedUser(db.admin, 'carol');
    await expectSqlState(
      db.app.query('SELECT * FROM wallet.store_statement_pdf($1, $2, $3, $4, 0, NULL)', [
        carol,
        '2026-10-01Z',
        '2026-11-01Z',
        PDF,
      ]),
      '42501',
    );
    await expectSqlState(
      db.worker.query('SELECT * FROM wallet.statement_pdf_for($1, now(), now())', [carol]),
      '42501',
    );
  });
});

describe('closing a period', () => {
  it('waits for a movement in flight on the wallet, then says closed; no wallet is W1012', async () => {
    const dave = await fundedUser(db.admin, 'dave', '10.00');
    const erin = await fundedUser(db.admin, 'erin');
    const mover = await db.client();
    await mover.query('BEGIN');
    await mover.query('SELECT * FROM wallet.transfer($1, $2, 1.00)', [dave, erin]);
    const to = new Date().toISOString();
    let settled = false;
    const closing = db.worker
      .query('SELECT * FROM wallet.close_statement_period($1, $2, $3)', [dave, '2026-01-01Z', to])
      .then((r) => {
        settled = true;
        return r.rows[0];
      });
    // Held back by the transfer's row lock: the database shows it waiting, and it has not answered.
    await waitForLockWaiters(db.admin, 1, '%wallet.close_statement_period(%');
    expect(settled).toBe(false);
    await mover.query('COMMIT');
    expect(await closing).toEqual({ username: 'dave', closed: true, stored_size: null, stored_sha256: null });
    // The entry dated before `to` is committed now, and so on the statement read after.
    const { rows } = await db.worker.query('SELECT * FROM wallet.statement($1, $2, $3)', [
      dave,
      '2026-01-01Z',
      to,
    ]);
    expect(rows.map((r) => r.amount)).toEqual(['10.00', '1.00']);
    const later = new Date(Date.now() + 60_000).toISOString();
    const open = await db.worker.query('SELECT closed FROM wallet.close_statement_period($1, $2, $3)', [
      dave,
      '2026-01-01Z',
      later,
    ]);
    expect(open.rows[0].closed).toBe(false);
    await expectSqlState(
      db.worker.query('SELECT * FROM wallet.close_statement_period(999999999, now(), now())'),
      'W1012',
    );
  });
});

describe('the monthly run’s wallets', () => {
  it('lists wallets with entries in the period and no stored statement, by id after a cursor', async () => {
    const from = new Date().toISOString();
    const [a, b, c] = [
      await fundedUser(db.admin, 'ma', '1.00'),
      await fundedUser(db.admin, 'mb', '1.00'),
      await fundedUser(db.admin, 'mc'),
    ];
    await new Promise((resolve) => setTimeout(resolve, 5));
    const to = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const page = (after: number, limit: number) =>
      db.worker
        .query('SELECT user_id FROM wallet.statement_wallets($1, $2, $3, $4)', [from, to, after, limit])
        .then((r) => r.rows.map((row) => row.user_id));
    expect(await page(0, 10)).toEqual([a, b]); // c has no entries
    expect(await page(a, 10)).toEqual([b]);
    expect(await page(0, 1)).toEqual([a]);
    // A statement of another period leaves a listed; one of this period takes it off the list.
    const store = (user: number, end: string) =>
      db.admin.query('SELECT * FROM wallet.store_statement_pdf($1, $2, $3, $4, 1, NULL)', [
        user,
        from,
        end,
        PDF,
      ]);
    await store(a, new Date(Date.parse(to) - 1).toISOString());
    expect(await page(0, 10)).toEqual([a, b]);
    await store(a, to);
    expect(await page(0, 10)).toEqual([b]);
    expect(c).toBeGreaterThan(b);
  });
});
