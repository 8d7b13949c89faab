// Chains under concurrency: 50 connections doing transfers, batches and refunds on the same few wallets leave
// every chain gap-free and whole (no new lock: the wallet row locks already order each chain), and concurrent
// refunds of one transaction never sum above it.
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyChains } from '../../src/books/verifier.js';
import { SqlState } from '../../src/db/sqlstate.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import { seededRandom } from '../helpers/random.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});

const CONNECTIONS = 50;
const CALLS_EACH = 8;
const EXPECTED_REFUSALS = new Set([SqlState.insufficientFunds, SqlState.refundExceedsOriginal]);

const connections = (n: number) => Promise.all(Array.from({ length: n }, () => db.client('wallet_app')));
const outcome = (e: unknown) => (e as { code?: string }).code ?? String(e);

describe('chains under 50 concurrent connections', () => {
  it('transfers, batches and refunds on 5 wallets: gap-free chains, verify() and the verifier silent', async () => {
    const random = seededRandom('books-concurrency');
    const wallets: number[] = [];
    for (let i = 0; i < 5; i++) wallets.push(await fundedUser(db.admin, `conc${i}`, '500.00'));
    const originals: number[] = [];
    for (let i = 0; i < 10; i++) {
      const s = wallets[i % 5] as number;
      const r = wallets[(i + 1) % 5] as number;
      originals.push(
        (await db.app.query('SELECT transaction_id FROM wallet.transfer($1, $2, 20)', [s, r])).rows[0]
          .transaction_id,
      );
    }
    const other = (s: number) => {
      let r = random.pick(wallets);
      while (r === s) r = random.pick(wallets);
      return r;
    };
    // The whole plan is drawn before anything runs, so the seed alone replays it.
    const plans = Array.from({ length: CONNECTIONS }, () =>
      Array.from({ length: CALLS_EACH }, (): { sql: string; args: unknown[] } => {
        const s = random.pick(wallets);
        const kind = random.int(3);
        const cents = `${1 + random.int(5)}.${String(random.int(100)).padStart(2, '0')}`;
        if (kind === 0)
          return { sql: 'SELECT * FROM wallet.transfer($1, $2, $3::numeric)', args: [s, other(s), cents] };
        if (kind === 1) {
          return {
            sql: 'SELECT * FROM wallet.transfer_batch($1, $2::bigint[], $3::numeric[])',
            args: [s, [other(s), other(s), other(s)], [cents, '0.50', '1.00']],
          };
        }
        return { sql: 'SELECT * FROM wallet.refund($1, $2::numeric)', args: [random.pick(originals), cents] };
      }),
    );
    const clients = await connections(CONNECTIONS);
    const outcomes: Record<string, number> = {};
    await Promise.all(
      clients.map(async (c: pg.Client, i) => {
        for (const call of plans[i] ?? []) {
          const o = await c.query(call.sql, call.args).then(() => 'ok', outcome);
          outcomes[o] = (outcomes[o] ?? 0) + 1;
        }
      }),
    );
    await Promise.all(clients.map((c) => c.end()));
    console.log(`[books-concurrency] seed ${random.seed} outcomes ${JSON.stringify(outcomes)}`);
    for (const o of Object.keys(outcomes))
      expect(o === 'ok' || EXPECTED_REFUSALS.has(o as never), o).toBe(true);
    expect(outcomes.ok ?? 0).toBeGreaterThan(CONNECTIONS);

    // Each chain is 1..N with N the wallet's head, one entry per committed transaction touching it.
    const chains = await db.admin.query(
      `SELECT w.user_id, w.entries, count(e.*)::int AS n, min(e.entry) AS lo, max(e.entry) AS hi,
              (SELECT count(*)::int FROM wallet.transactions t WHERE w.user_id IN (t.sender_id, t.receiver_id)) AS txs
         FROM wallet.wallets w JOIN wallet.entries e ON e.user_id = w.user_id
        WHERE w.user_id = ANY ($1) GROUP BY w.user_id, w.entries`,
      [wallets],
    );
    for (const c of chains.rows)
      expect([c.n, c.lo, c.hi, c.txs], `wallet ${c.user_id}`).toEqual([c.entries, 1, c.entries, c.entries]);
    expect((await db.admin.query('SELECT * FROM wallet.verify()')).rows).toEqual([]);
    expect((await verifyChains(db.url)).problems).toEqual([]);
    expect((await db.admin.query('SELECT * FROM wallet.audit()')).rows).toEqual([]);
    const over = await db.admin.query(
      `SELECT o.id FROM wallet.transactions o
        WHERE o.amount < (SELECT coalesce(sum(r.amount), 0) FROM wallet.transactions r WHERE r.refund_of = o.id)`,
    );
    expect(over.rows).toEqual([]);
  });

  it('30 refunds of 1.00 of one 10.00 transfer at once: exactly 10 succeed, the rest learn how much is left', async () => {
    const a = await fundedUser(db.admin, 'ref_a', '10.00');
    const b = await fundedUser(db.admin, 'ref_b', '50.00');
    const original = (await db.app.query('SELECT transaction_id FROM wallet.transfer($1, $2, 10)', [a, b]))
      .rows[0].transaction_id;
    const clients = await connections(30);
    const results = await Promise.all(
      clients.map((c) =>
        c.query('SELECT * FROM wallet.refund($1, 1.00, NULL, $2)', [original, b]).then(() => 'ok', outcome),
      ),
    );
    await Promise.all(clients.map((c) => c.end()));
    expect(results.filter((r) => r === 'ok')).toHaveLength(10);
    expect(results.filter((r) => r === SqlState.refundExceedsOriginal)).toHaveLength(20);
    const { rows } = await db.admin.query(
      'SELECT sum(amount) AS total, count(*)::int AS n FROM wallet.transactions WHERE refund_of = $1',
      [original],
    );
    expect(rows[0]).toEqual({ total: '10.00', n: 10 });
    expect(
      (await db.admin.query('SELECT balance FROM wallet.wallets WHERE user_id = $1', [a])).rows[0].balance,
    ).toBe('10.00');
  });

  it('20 refunds of "the rest" at once: exactly one succeeds', async () => {
    const a = await fundedUser(db.admin, 'rest_a', '10.00');
    const b = await fundedUser(db.admin, 'rest_b');
    const original = (await db.app.query('SELECT transaction_id FROM wallet.transfer($1, $2, 7.50)', [a, b]))
      .rows[0].transaction_id;
    await db.app.query('SELECT * FROM wallet.refund($1, 2.50)', [original]);
    const clients = await connections(20);
    const results = await Promise.all(
      clients.map((c) =>
        c.query('SELECT amount FROM wallet.refund($1)', [original]).then((r) => r.rows[0].amount, outcome),
      ),
    );
    await Promise.all(clients.map((c) => c.end()));
    expect(results.filter((r) => r === '5.00')).toHaveLength(1);
    expect(results.filter((r) => r === SqlState.refundExceedsOriginal)).toHaveLength(19);
    expect((await db.admin.query('SELECT * FROM wallet.verify()')).rows).toEqual([]);
  });
});
