// balance_at, statement and statement_summary on random seeded histories, checked against a replay the test
// keeps itself from what each call acknowledged. Calls run one after another and the database clock is read
// between them: every entry of a call before a mark is older than the mark, every later one is younger.
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import { seededRandom } from '../helpers/random.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});

const USERS = 6;
const CALLS = 150;
const money = (cents: number) =>
  `${cents < 0 ? '-' : ''}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;
/** Exact: PostgreSQL prints numeric(20,2) with two decimals, so dropping the point gives whole cents. */
const cents = (text: string) => {
  if (!/^-?\d+\.\d{2}$/.test(text)) throw new Error(`not a two-decimal amount: ${text}`);
  return Number(text.replace('.', ''));
};

interface Flow {
  user: number;
  cents: number; // signed, as the entry's amount
}
interface Mark {
  at: string; // the database clock between two calls, as text (microseconds kept)
  balances: Map<number, number>;
  flows: Flow[][]; // per call so far: what it moved
}

describe('balance_at and statements on a random history', () => {
  it('balance_at replays every mark; statement and summary agree with the replay on random periods', async () => {
    const random = seededRandom('books-statement');
    const users: number[] = [];
    for (let i = 0; i < USERS; i++) users.push(await fundedUser(db.admin, `st${i}`));
    const balance = new Map(users.map((u) => [u, 0]));
    const refundable: Array<{ id: number; receiver: number; left: number }> = [];
    const calls: Flow[][] = [];
    const clock = async () =>
      (await db.admin.query('SELECT clock_timestamp()::text AS at')).rows[0].at as string;
    const first = await clock();
    const marks: Mark[] = [];
    const two = () => {
      const s = random.pick(users);
      let r = random.pick(users);
      while (r === s) r = random.pick(users);
      return [s, r] as const;
    };
    for (let call = 0; call < CALLS; call++) {
      const choice = random.int(10);
      const flows: Flow[] = [];
      if (choice < 2) {
        const u = random.pick(users);
        const x = 1 + random.int(50_000);
        await db.app.query('SELECT * FROM wallet.deposit($1, $2::numeric)', [u, money(x)]);
        flows.push({ user: u, cents: x });
      } else if (choice < 6) {
        const [s, r] = two();
        const x = 1 + random.int(20_000);
        if ((balance.get(s) as number) >= x) {
          const t = await db.app.query('SELECT * FROM wallet.transfer($1, $2, $3::numeric)', [
            s,
            r,
            money(x),
          ]);
          flows.push({ user: s, cents: -x }, { user: r, cents: x });
          refundable.push({ id: t.rows[0].transaction_id, receiver: r, left: x });
        }
      } else if (choice < 8) {
        const [s] = two();
        const items = 1 + random.int(4);
        const receivers = Array.from({ length: items }, () => two()[1]).filter((r) => r !== s);
        const amounts = receivers.map(() => 1 + random.int(3_000));
        const total = amounts.reduce((a, b) => a + b, 0);
        if (receivers.length > 0 && (balance.get(s) as number) >= total) {
          await db.app.query('SELECT * FROM wallet.transfer_batch($1, $2::bigint[], $3::numeric[])', [
            s,
            receivers,
            amounts.map(money),
          ]);
          receivers.forEach((r, i) => {
            flows.push({ user: s, cents: -(amounts[i] as number) }, { user: r, cents: amounts[i] as number });
          });
        }
      } else {
        const open = refundable.filter((o) => o.left > 0 && (balance.get(o.receiver) as number) > 0);
        if (open.length > 0) {
          const o = random.pick(open);
          const x = 1 + random.int(Math.min(o.left, balance.get(o.receiver) as number));
          const r = (await db.app.query('SELECT * FROM wallet.refund($1, $2::numeric)', [o.id, money(x)]))
            .rows[0];
          o.left -= x;
          const original = (
            await db.admin.query('SELECT sender_id FROM wallet.transactions WHERE id = $1', [o.id])
          ).rows[0].sender_id as number;
          flows.push({ user: o.receiver, cents: -x }, { user: original, cents: x });
          expect(r.refundable_remaining).toBe(money(o.left));
        }
      }
      for (const f of flows) balance.set(f.user, (balance.get(f.user) as number) + f.cents);
      calls.push(flows);
      marks.push({ at: await clock(), balances: new Map(balance), flows: [...calls] });
    }

    // balance_at at every mark, and before the first entry.
    for (const u of users) {
      const at = async (t: string) =>
        (await db.app.query('SELECT wallet.balance_at($1, $2::timestamptz) AS b', [u, t])).rows[0]
          .b as string;
      expect(await at(first), `wallet ${u} before its first entry`).toBe('0.00');
      for (const [i, m] of marks.entries()) {
        expect(await at(m.at), `wallet ${u} at mark ${i}`).toBe(money(m.balances.get(u) as number));
      }
    }

    // Statements over random periods between marks (from < to), with paging.
    for (let k = 0; k < 25; k++) {
      const i = random.int(marks.length - 1);
      const j = i + 1 + random.int(marks.length - 1 - i);
      const from = marks[i] as Mark;
      const to = marks[j] as Mark;
      for (const u of users) {
        const period = to.flows
          .slice(from.flows.length)
          .flat()
          .filter((f) => f.user === u);
        const inflow = period.filter((f) => f.cents > 0).reduce((a, f) => a + f.cents, 0);
        const outflow = period.filter((f) => f.cents < 0).reduce((a, f) => a - f.cents, 0);
        const summary = (
          await db.app.query('SELECT * FROM wallet.statement_summary($1, $2::timestamptz, $3::timestamptz)', [
            u,
            from.at,
            to.at,
          ])
        ).rows[0];
        const where = `wallet ${u}, marks ${i}..${j}`;
        expect(summary, where).toMatchObject({
          opening_balance: money(from.balances.get(u) as number),
          closing_balance: money(to.balances.get(u) as number),
          total_in: money(inflow),
          total_out: money(outflow),
          entries: period.length,
        });
        expect(
          cents(summary.opening_balance) + cents(summary.total_in) - cents(summary.total_out),
          where,
        ).toBe(cents(summary.closing_balance));
        const rows = (
          await db.app.query('SELECT * FROM wallet.statement($1, $2::timestamptz, $3::timestamptz)', [
            u,
            from.at,
            to.at,
          ])
        ).rows;
        expect(
          rows.map((r) => (r.direction === 'sent' ? -cents(r.amount) : cents(r.amount))),
          where,
        ).toEqual(period.map((f) => f.cents));
        let running = cents(summary.opening_balance);
        for (const r of rows) {
          running += r.direction === 'sent' ? -cents(r.amount) : cents(r.amount);
          expect(cents(r.balance_after), where).toBe(running);
        }
        if (rows.length > 0) {
          expect(summary.closing_entry, where).toBe(rows.at(-1)?.entry);
          expect(summary.closing_hash, where).toBe(rows.at(-1)?.hash);
        }
        // Keyset pages of 3 give the same rows.
        const paged = [];
        let after: number | null = null;
        for (;;) {
          const page: Array<Record<string, unknown>> = (
            await db.app.query(
              'SELECT * FROM wallet.statement($1, $2::timestamptz, $3::timestamptz, $4, 3)',
              [u, from.at, to.at, after],
            )
          ).rows;
          paged.push(...page);
          if (page.length < 3) break;
          after = page.at(-1)?.entry as number;
        }
        expect(paged, where).toEqual(rows);
      }
    }
    expect((await db.admin.query('SELECT * FROM wallet.audit()')).rows).toEqual([]);
  });

  it('counts an entry at exactly its own time: in balance_at (at or before) and from, not in to', async () => {
    const [a, b] = [await fundedUser(db.admin, 'edge_a', '10.00'), await fundedUser(db.admin, 'edge_b')];
    await db.app.query('SELECT * FROM wallet.transfer($1, $2, 4.00)', [a, b]);
    await db.app.query('SELECT * FROM wallet.transfer($1, $2, 1.00)', [a, b]);
    // b's entries: 1 (+4.00), 2 (+1.00); their own times, to the microsecond.
    const { rows } = await db.admin.query(
      'SELECT entry, created_at::text AS at FROM wallet.entries WHERE user_id = $1 ORDER BY entry',
      [b],
    );
    const [first, second] = rows.map((r) => r.at as string) as [string, string];
    // Two calls a round trip apart: the second entry is later (to the microsecond), which the rest relies on.
    const shift = async (t: string, by: string) =>
      (await db.admin.query('SELECT ($1::timestamptz + $2::interval)::text AS t', [t, by])).rows[0]
        .t as string;
    expect((await shift(first, '1 microsecond')) <= second).toBe(true);
    const balanceAt = async (t: string) =>
      (await db.app.query('SELECT wallet.balance_at($1, $2::timestamptz) AS v', [b, t])).rows[0].v as string;
    expect(await balanceAt(first)).toBe('4.00');
    expect(await balanceAt(second)).toBe('5.00');
    expect(await balanceAt(await shift(second, '-1 microsecond'))).toBe('4.00');
    expect(await balanceAt(await shift(first, '-1 microsecond'))).toBe('0.00');
    const entries = async (from: string, to: string) =>
      (
        await db.app.query('SELECT entry FROM wallet.statement($1, $2::timestamptz, $3::timestamptz)', [
          b,
          from,
          to,
        ])
      ).rows.map((r) => r.entry as number);
    expect(await entries(first, second)).toEqual([1]); // from is in, to is out
    expect(await entries(second, await shift(second, '1 microsecond'))).toEqual([2]);
    expect(await entries(await shift(first, '1 microsecond'), second)).toEqual([]);
  });
});
