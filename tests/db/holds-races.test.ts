// Races on committed data, each call on its own connection. The overlap is forced: a blocker holds the sender's
// wallet row until every caller is waiting on a lock, then lets them all go at once.
import { Decimal } from 'decimal.js';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlState } from '../../src/db/sqlstate.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import { waitPastExpiry } from '../helpers/holds.js';
import { lockWaiters } from '../helpers/row-locks.js';

let db: TestDatabase;
let clients: pg.Client[];
beforeAll(async () => {
  db = await createTestDatabase();
  clients = await Promise.all(Array.from({ length: 30 }, () => db.client('wallet_app')));
});
afterAll(async () => {
  expect((await db.admin.query('SELECT * FROM wallet.audit()')).rows).toEqual([]);
});

type Outcome = { ok: true; row: Record<string, unknown> } | { ok: false; code: string; message: string };

async function call(client: pg.Client, text: string, values: unknown[]): Promise<Outcome> {
  try {
    return { ok: true, row: (await client.query(text, values)).rows[0] };
  } catch (e) {
    const { code, message } = e as { code: string; message: string };
    return { ok: false, code, message };
  }
}

const CAPTURE = 'SELECT * FROM wallet.capture($1)';
const RELEASE = 'SELECT * FROM wallet.release($1)';
const TRANSFER = 'SELECT * FROM wallet.transfer($1, $2, $3::numeric)';
const HOLD = "SELECT * FROM wallet.hold($1, $2, $3::numeric, '1 day')";

/** Runs the calls with the wallet row locked until all of them wait on a lock, then releases it. */
async function raceOn(
  walletId: number,
  calls: ((c: pg.Client) => Promise<Outcome>)[],
  beforeGo?: () => Promise<void>,
) {
  const blocker = await db.client();
  await blocker.query('BEGIN');
  await blocker.query('SELECT 1 FROM wallet.wallets WHERE user_id = $1 FOR UPDATE', [walletId]);
  const running = calls.map((run, i) => run(clients[i] as pg.Client));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { rows } = await db.admin.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    if (rows[0].n >= calls.length) break;
    if (Date.now() > deadline) throw new Error(`only ${rows[0].n} of ${calls.length} callers are waiting`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await beforeGo?.();
  await blocker.query('COMMIT');
  await blocker.end();
  return Promise.all(running);
}

const balances = async (...ids: number[]) =>
  (
    await db.admin.query(
      'SELECT balance, held FROM wallet.wallets WHERE user_id = ANY($1) ORDER BY user_id',
      [ids],
    )
  ).rows;
const minAvailable = async () =>
  (
    await db.admin.query(
      "SELECT min(w.balance - o.s) AS m FROM wallet.wallets w, LATERAL (SELECT coalesce(sum(h.amount), 0) AS s FROM wallet.holds h WHERE h.sender_id = w.user_id AND h.status = 'open' AND h.expires_at > clock_timestamp()) o",
    )
  ).rows[0].m as string;

describe('capture, release and expiry race for one hold', () => {
  it('15 captures and 15 releases from 30 connections: exactly one wins, the rest learn which', async () => {
    const a = await fundedUser(db.admin, 'race_a', '50.00');
    const b = await fundedUser(db.admin, 'race_b');
    const id = (await db.admin.query(HOLD, [a, b, '20'])).rows[0].hold_id;
    const outcomes = await raceOn(
      a,
      clients.map((_, i) => (c) => call(c, i % 2 ? CAPTURE : RELEASE, [id])),
    );
    const winners = outcomes.filter((o) => o.ok);
    expect(winners).toHaveLength(1);
    const won = 'transaction_id' in (winners[0] as { row: object }).row ? 'captured' : 'released';
    for (const o of outcomes.filter((x) => !x.ok)) {
      expect(o).toMatchObject({ code: SqlState.holdClosed, message: `hold is already ${won}` });
    }
    const total = won === 'captured' ? ['30.00', '20.00'] : ['50.00', '0.00'];
    expect((await balances(a, b)).map((r) => r.balance)).toEqual(total);
    expect((await balances(a)).map((r) => r.held)).toEqual(['0.00']);
  });

  it('when the hold expires while they wait, expiry wins: no capture or release, the money is spendable', async () => {
    const a = await fundedUser(db.admin, 'expire_a', '20.00');
    const b = await fundedUser(db.admin, 'expire_b');
    // Five seconds: time for twenty callers to queue on the lock before the hold runs out, even on a loaded machine.
    const { hold_id: id } = (
      await db.admin.query("SELECT * FROM wallet.hold($1, $2, 20, '5 seconds')", [a, b])
    ).rows[0];
    const outcomes = await raceOn(
      a,
      clients.slice(0, 20).map((_, i) => (c) => call(c, [CAPTURE, RELEASE][i % 2] as string, [id])),
      async () => {
        // raceOn saw all twenty waiting just before this: by the database's clock the hold was still open then.
        const open = await db.admin.query(
          'SELECT clock_timestamp() < expires_at AS open FROM wallet.holds WHERE id = $1',
          [id],
        );
        expect(open.rows[0].open, 'the callers were not all waiting before the expiry').toBe(true);
        await waitPastExpiry(db.admin, id);
        // ...and they still wait, now past the expiry, for the row to be let go.
        expect(await lockWaiters(db.admin, '%wallet.%(%')).toBe(20);
      },
    );
    expect(outcomes.filter((o) => o.ok)).toEqual([]);
    for (const o of outcomes)
      expect(o).toMatchObject({ code: SqlState.holdClosed, message: 'hold is already expired' });
    expect((await call(clients[0] as pg.Client, TRANSFER, [a, b, '20'])).ok).toBe(true);
    expect((await balances(a, b)).map((r) => r.balance)).toEqual(['0.00', '20.00']);
  });
});

describe('holds and transfers race for the last of a balance', () => {
  it.each([
    ['10.00', 1],
    ['1.00', 10],
  ])(
    '30 holds and transfers of %s on a wallet with 10.00: exactly %i succeed, never overdrawn',
    async (amount, wins) => {
      const a = await fundedUser(db.admin, `last_${amount}`, '10.00');
      const receivers = await Promise.all(clients.map((_, i) => fundedUser(db.admin, `last_${amount}_${i}`)));
      const outcomes = await raceOn(
        a,
        receivers.map((r, i) => (c) => call(c, i % 2 ? HOLD : TRANSFER, [a, r, amount])),
      );
      expect(outcomes.filter((o) => o.ok)).toHaveLength(wins);
      expect(new Set(outcomes.flatMap((o) => (o.ok ? [] : [o.code])))).toEqual(
        new Set([SqlState.insufficientFunds]),
      );
      const [w] = await balances(a);
      const holdsMade = outcomes.filter((o, i) => o.ok && i % 2).length;
      // All of it spent or held, none of it twice.
      expect(new Decimal(w.balance).minus(w.held).toFixed(2)).toBe('0.00');
      expect(w.held).toBe(new Decimal(amount).times(holdsMade).toFixed(2));
      expect((await minAvailable()).startsWith('-')).toBe(false);
    },
  );
});
