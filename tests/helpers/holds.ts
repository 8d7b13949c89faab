// SQL calls on holds for the tests, on one test database.
import type pg from 'pg';
import type { TestDatabase } from './database.js';
import { fundedUser } from './database.js';

export function holdCalls(db: TestDatabase) {
  let n = 0;
  return {
    pair: async (balance = '100.00'): Promise<[number, number]> => [
      await fundedUser(db.admin, `hs${++n}`, balance),
      await fundedUser(db.admin, `hr${n}`),
    ],
    hold: (from: number, to: number, amount: string, expiresIn: string | null = '1 day', key?: string) =>
      db.app.query('SELECT * FROM wallet.hold($1, $2, $3::numeric, $4::interval, $5)', [
        from,
        to,
        amount,
        expiresIn,
        key ?? null,
      ]),
    capture: (id: number, amount: string | null = null, key?: string, actor?: number) =>
      db.app.query('SELECT * FROM wallet.capture($1, $2::numeric, $3, $4)', [
        id,
        amount,
        key ?? null,
        actor ?? null,
      ]),
    release: (id: number, actor?: number) =>
      db.app.query('SELECT * FROM wallet.release($1, $2)', [id, actor ?? null]),
    transfer: (from: number, to: number, amount: string) =>
      db.app.query('SELECT * FROM wallet.transfer($1, $2, $3::numeric)', [from, to, amount]),
    balance: async (id: number) =>
      (await db.app.query('SELECT balance, available FROM wallet.balance($1)', [id])).rows[0],
    audit: async () => (await db.admin.query('SELECT * FROM wallet.audit()')).rows,
  };
}

/**
 * Waits until the database's clock is past the hold's expires_at. Expiry is decided by the database's
 * clock_timestamp(): sleeping on the test machine's clock (expires_at - Date.now()) assumes the two agree.
 */
export async function waitPastExpiry(admin: pg.Pool, holdId: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await admin.query(
      'SELECT extract(epoch FROM expires_at - clock_timestamp()) * 1000 AS ms FROM wallet.holds WHERE id = $1',
      [holdId],
    );
    if (rows.length !== 1) throw new Error(`no hold ${holdId}`);
    const ms = Number(rows[0].ms);
    if (ms < 0) return;
    if (Date.now() > deadline) throw new Error(`hold ${holdId} still ${ms} ms from its expiry`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(Math.ceil(ms) + 1, 200)));
  }
}
