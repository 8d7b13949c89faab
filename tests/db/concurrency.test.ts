// Races on committed data, each call on its own connection: the cases where ledgers usually break.
import { Decimal } from 'decimal.js';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { SqlState } from '../../src/db/sqlstate.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import { seededRandom } from '../helpers/random.js';
import { holdWalletRow, waitForLockWaiters } from '../helpers/row-locks.js';

let db: TestDatabase;
let clients: pg.Client[];
beforeAll(async () => {
  db = await createTestDatabase();
  clients = await Promise.all(Array.from({ length: 50 }, () => db.client('wallet_app')));
});

type Outcome = { ok: true; row: Record<string, unknown> } | { ok: false; code: string };

async function call(client: pg.Client, text: string, values: unknown[]): Promise<Outcome> {
  try {
    return { ok: true, row: (await client.query(text, values)).rows[0] };
  } catch (e) {
    return { ok: false, code: (e as { code: string }).code };
  }
}

const TRANSFER = 'SELECT * FROM wallet.transfer($1, $2, $3::numeric, $4)';
const balanceOf = async (id: number) =>
  (await db.admin.query('SELECT balance FROM wallet.wallets WHERE user_id = $1', [id])).rows[0]
    .balance as string;

describe('double spend (the seed scenario)', () => {
  it.each([2, 50])(
    '%i simultaneous 10.00 transfers from a wallet holding 10.00: exactly one succeeds',
    async (n) => {
      const from = await fundedUser(db.admin, `spender${n}`, '10.00');
      const to = await fundedUser(db.admin, `payee${n}`);
      // All n wait behind one held lock on the sender's row, then race for it: an overlap by force.
      const held = await holdWalletRow(await db.client(), from);
      const racing = Promise.all(
        clients.slice(0, n).map((c) => call(c, TRANSFER, [from, to, '10.00', null])),
      );
      await waitForLockWaiters(db.admin, n);
      await held.release();
      const outcomes = await racing;
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      expect(outcomes.filter((o) => !o.ok).map((o) => (o as { code: string }).code)).toEqual(
        Array(n - 1).fill(SqlState.insufficientFunds),
      );
      expect(await balanceOf(from)).toBe('0.00');
      expect(await balanceOf(to)).toBe('10.00');
    },
  );
});

describe('opposite directions', () => {
  it('A to B and B to A from 50 connections at once: no deadlock, books balance', async () => {
    const a = await fundedUser(db.admin, 'storm_a', '1000.00');
    const b = await fundedUser(db.admin, 'storm_b', '1000.00');
    const perClient = await Promise.all(
      clients.map(async (c, i) => {
        const outcomes: Outcome[] = [];
        for (let k = 0; k < 4; k++) {
          outcomes.push(await call(c, TRANSFER, i % 2 === 0 ? [a, b, '1.00', null] : [b, a, '2.00', null]));
        }
        return outcomes;
      }),
    );
    expect(perClient.flat().filter((o) => !o.ok)).toEqual([]); // a deadlock (40P01) would show here
    // 25 clients x 4 send 1.00 from A to B; 25 x 4 send 2.00 from B to A.
    expect(await balanceOf(a)).toBe('1100.00');
    expect(await balanceOf(b)).toBe('900.00');
    expect((await db.admin.query('SELECT * FROM wallet.audit()')).rows).toEqual([]);
  });
});

describe('one idempotency key, ten racing connections', () => {
  it('produces exactly one transaction; every other caller gets a replay or "key in use"', async () => {
    const from = await fundedUser(db.admin, 'keyrace', '100.00');
    const to = await fundedUser(db.admin, 'keyrace_to');
    const outcomes = await Promise.all(
      clients.slice(0, 10).map((c) => call(c, TRANSFER, [from, to, '7.00', 'race-key'])),
    );
    const made = outcomes.flatMap((o) => (o.ok && o.row.replayed === false ? [o.row] : []));
    expect(made).toHaveLength(1);
    for (const o of outcomes) {
      if (o.ok) expect(o.row.transaction_id).toBe(made[0]?.transaction_id);
      else expect(o.code).toBe(SqlState.idempotencyKeyInUse);
    }
    const count = await db.admin.query(
      'SELECT count(*)::int AS n FROM wallet.transactions WHERE sender_id = $1',
      [from],
    );
    expect(count.rows[0].n).toBe(1);
    expect(await balanceOf(from)).toBe('93.00');
  });
});

describe('random transfers among many wallets', () => {
  it('moves exactly the acknowledged amounts, never goes negative and leaves audit() empty', async () => {
    const random = seededRandom('random-transfers');
    const funding = new Map<number, string>();
    for (let i = 0; i < 30; i++) {
      const amount = `${random.int(5000)}.${String(random.int(100)).padStart(2, '0')}`;
      funding.set(await fundedUser(db.admin, `rnd${i}`, amount), amount);
    }
    const ids = [...funding.keys()];
    const codes = new Map<string, number>();
    const acknowledged: { from: number; to: number; amount: string }[] = [];
    await Promise.all(
      clients.slice(0, 20).map(async (c) => {
        for (let i = 0; i < 40; i++) {
          const from = random.pick(ids);
          const to = random.pick(ids);
          const amount = `${random.int(800)}.${String(random.int(100)).padStart(2, '0')}`;
          const o = await call(c, TRANSFER, [from, to, amount, null]);
          if (o.ok) acknowledged.push({ from, to, amount });
          const code = o.ok ? 'ok' : o.code;
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }
      }),
    );
    console.log(
      `[random-transfers] seed ${random.seed} outcomes ${JSON.stringify(Object.fromEntries(codes))}`,
    );
    const allowed = new Set(['ok', SqlState.insufficientFunds, SqlState.sameWallet, SqlState.invalidAmount]);
    expect([...codes.keys()].filter((c) => !allowed.has(c))).toEqual([]);
    expect(codes.get('ok')).toBeGreaterThan(0);
    // Each wallet's balance from its funding and the calls that answered success, not from the database.
    const expected = new Map([...funding].map(([id, amount]) => [id, new Decimal(amount)]));
    for (const t of acknowledged) {
      expected.set(t.from, (expected.get(t.from) as Decimal).minus(t.amount));
      expected.set(t.to, (expected.get(t.to) as Decimal).plus(t.amount));
    }
    const { rows } = await db.admin.query(
      'SELECT user_id, balance::text FROM wallet.wallets WHERE user_id = ANY($1) ORDER BY user_id',
      [ids],
    );
    expect(rows.map((r) => [r.user_id, r.balance])).toEqual(
      ids.map((id) => [id, (expected.get(id) as Decimal).toFixed(2)]),
    );
    expect(rows.filter((r) => r.balance.startsWith('-'))).toEqual([]);
    expect((await db.admin.query('SELECT * FROM wallet.audit()')).rows).toEqual([]); // a second opinion
  });
});
