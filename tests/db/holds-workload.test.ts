// A seeded random workload of transfers, batches, holds, captures and releases from several connections. The books
// are checked twice: by wallet.audit(), and against balances the test derives from acknowledged results only.
import { Decimal } from 'decimal.js';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { SqlState } from '../../src/db/sqlstate.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import { waitPastExpiry } from '../helpers/holds.js';
import { seededRandom } from '../helpers/random.js';

let db: TestDatabase;
let clients: pg.Client[];
beforeAll(async () => {
  db = await createTestDatabase();
  clients = await Promise.all(Array.from({ length: 6 }, () => db.client('wallet_app')));
});

interface Hold {
  id: number;
  sender: number;
  receiver: number;
  amount: Decimal;
  expiresAt: Date;
  ended?: 'captured' | 'released';
}

const EXPECTED_FAILURES = new Set([
  SqlState.insufficientFunds,
  SqlState.holdClosed,
  SqlState.captureExceedsHold,
]);

describe('random transfers, batches, holds, captures and releases', () => {
  it('match the balances derived from what was acknowledged, and audit() finds nothing', async () => {
    const random = seededRandom('holds-workload');
    const wallets: number[] = [];
    const balance = new Map<number, Decimal>();
    for (let i = 0; i < 8; i++) {
      const funds = new Decimal(random.int(20_000)).div(100).plus(50);
      const id = await fundedUser(db.admin, `wl${i}`, funds.toFixed(2));
      wallets.push(id);
      balance.set(id, funds);
    }
    const holds: Hold[] = [];
    const outcomes = new Map<string, number>();
    const move = (from: number, to: number, amount: Decimal) => {
      balance.set(from, (balance.get(from) as Decimal).minus(amount));
      balance.set(to, (balance.get(to) as Decimal).plus(amount));
    };
    const cents = () => new Decimal(random.int(3000) + 1).div(100);
    const pairOf = () => {
      const from = random.pick(wallets);
      const others = wallets.filter((w) => w !== from);
      return [from, random.pick(others)] as const;
    };

    await Promise.all(
      clients.map(async (c) => {
        for (let i = 0; i < 60; i++) {
          const op = random.pick([
            'transfer',
            'transfer',
            'batch',
            'hold',
            'hold',
            'capture',
            'release',
          ] as const);
          const hold = holds.length ? random.pick(holds) : undefined;
          const [from, to] = pairOf();
          const amount = cents();
          const partial = random.next() < 0.5 ? amount : null;
          try {
            if (op === 'transfer') {
              await c.query('SELECT * FROM wallet.transfer($1, $2, $3::numeric)', [
                from,
                to,
                amount.toFixed(2),
              ]);
              move(from, to, amount);
            } else if (op === 'batch') {
              // One sender, one to three receivers (the same one may come twice): all of it or none.
              const items = Array.from({ length: random.int(3) + 1 }, () => ({
                to: pairOf()[1],
                amount: cents(),
              })).filter((item) => item.to !== from);
              if (items.length === 0) continue;
              await c.query('SELECT * FROM wallet.transfer_batch($1, $2::bigint[], $3::numeric[])', [
                from,
                items.map((item) => item.to),
                items.map((item) => item.amount.toFixed(2)),
              ]);
              for (const item of items) move(from, item.to, item.amount);
            } else if (op === 'hold') {
              const expiresIn = random.next() < 0.3 ? '1 second' : '1 day';
              const { rows } = await c.query('SELECT * FROM wallet.hold($1, $2, $3::numeric, $4::interval)', [
                from,
                to,
                amount.toFixed(2),
                expiresIn,
              ]);
              holds.push({
                id: rows[0].hold_id,
                sender: from,
                receiver: to,
                amount,
                expiresAt: rows[0].expires_at,
              });
            } else if (op === 'capture' && hold) {
              await c.query('SELECT * FROM wallet.capture($1, $2::numeric)', [
                hold.id,
                partial?.toFixed(2) ?? null,
              ]);
              expect(hold.ended).toBeUndefined(); // a hold ends once
              hold.ended = 'captured';
              move(hold.sender, hold.receiver, partial ?? hold.amount);
            } else if (op === 'release' && hold) {
              await c.query('SELECT * FROM wallet.release($1)', [hold.id]);
              expect(hold.ended).toBeUndefined();
              hold.ended = 'released';
            } else continue;
            outcomes.set(`${op} ok`, (outcomes.get(`${op} ok`) ?? 0) + 1);
          } catch (e) {
            const code = (e as { code?: string }).code ?? String(e);
            expect(EXPECTED_FAILURES.has(code as never), `${op}: ${String(e)}`).toBe(true);
            outcomes.set(`${op} ${code}`, (outcomes.get(`${op} ${code}`) ?? 0) + 1);
          }
        }
      }),
    );
    console.log(`[holds-workload] outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`);
    expect(outcomes.get('capture ok') ?? 0).toBeGreaterThan(0);
    expect(outcomes.get('release ok') ?? 0).toBeGreaterThan(0);
    expect(outcomes.get('batch ok') ?? 0).toBeGreaterThan(0);

    // Let the short holds run out (at most one second), then compare every wallet with the model.
    // Expiry follows the database's clock: wait on it, and judge the model's holds by it.
    const clock = async () => (await db.admin.query('SELECT clock_timestamp() AS t')).rows[0].t as Date;
    const soon = (await clock()).getTime() + 60_000;
    const short = holds.filter((h) => !h.ended && h.expiresAt.getTime() < soon);
    const last = short.reduce<Hold | undefined>(
      (a, h) => (a && a.expiresAt >= h.expiresAt ? a : h),
      undefined,
    );
    if (last) await waitPastExpiry(db.admin, last.id);
    const now = (await clock()).getTime();
    for (const id of wallets) {
      const open = holds.filter((h) => h.sender === id && !h.ended && h.expiresAt.getTime() > now);
      const held = open.reduce((sum, h) => sum.plus(h.amount), new Decimal(0));
      const { rows } = await db.app.query('SELECT balance, available FROM wallet.balance($1)', [id]);
      const expected = balance.get(id) as Decimal;
      expect(rows[0], `wallet ${id}`).toEqual({
        balance: expected.toFixed(2),
        available: expected.minus(held).toFixed(2),
      });
    }
    const statuses = await db.admin.query('SELECT id, status FROM wallet.holds');
    const ended = new Map(statuses.rows.map((r) => [r.id, r.status]));
    for (const h of holds) if (h.ended) expect(ended.get(h.id), `hold ${h.id}`).toBe(h.ended);
    expect((await db.admin.query('SELECT * FROM wallet.audit()')).rows).toEqual([]);
  });
});
