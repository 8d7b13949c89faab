// Batches racing batches and single transfers, each on its own connection: no deadlock, no overdraft, and
// every wallet's balance equal to what the acknowledged calls say it must be.
import { Decimal } from 'decimal.js';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { SqlState } from '../../src/db/sqlstate.js';
import { createTestDatabase, fundedUser, type TestDatabase } from '../helpers/database.js';
import { type Random, seededRandom } from '../helpers/random.js';
import { waitForLockWaiters } from '../helpers/row-locks.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});

const BATCH = 'SELECT * FROM wallet.transfer_batch($1, $2::bigint[], $3::numeric[])';
const TRANSFER = 'SELECT * FROM wallet.transfer($1, $2, $3::numeric)';

/** Expected balances, from funding plus what each acknowledged call moved. */
class Books {
  readonly expected = new Map<number, Decimal>();
  fund(id: number, amount: string) {
    this.expected.set(id, new Decimal(amount));
  }
  move(from: number, to: number, amount: string) {
    this.expected.set(from, (this.expected.get(from) as Decimal).minus(amount));
    this.expected.set(to, (this.expected.get(to) as Decimal).plus(amount));
  }
}

const amount = (random: Random, max: number) =>
  `${random.int(max)}.${String(1 + random.int(99)).padStart(2, '0')}`;

async function deadlocks(): Promise<number> {
  await db.admin.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await db.admin.query(
    'SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()',
  );
  return rows[0].n;
}

async function balances(ids: number[]): Promise<Map<number, string>> {
  const { rows } = await db.admin.query(
    'SELECT user_id, balance FROM wallet.wallets WHERE user_id = ANY($1)',
    [ids],
  );
  return new Map(rows.map((r) => [r.user_id as number, r.balance as string]));
}

/** Runs work on n fresh wallet_app connections, then closes them (a closing backend flushes its statistics). */
async function onConnections(n: number, work: (c: pg.Client, index: number) => Promise<void>) {
  const clients = await Promise.all(Array.from({ length: n }, () => db.client('wallet_app')));
  try {
    await Promise.all(clients.map((c, i) => work(c, i)));
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

function expectBooks(books: Books, actual: Map<number, string>) {
  for (const [id, want] of books.expected) expect(actual.get(id), `wallet ${id}`).toBe(want.toFixed(2));
}

describe('overlapping batches in both directions', () => {
  it('20 connections: no deadlock, money conserved, every balance as the acknowledged calls say', async () => {
    const random = seededRandom('batch-storm');
    const books = new Books();
    const ids: number[] = [];
    for (let i = 0; i < 12; i++) {
      const funding = `${200 + random.int(800)}.00`;
      ids.push(await fundedUser(db.admin, `storm${i}`, funding));
      books.fund(ids[i] as number, funding);
    }
    const deadlocksBefore = await deadlocks();
    const codes = new Map<string, number>();
    // A deadlock needs batches that hold some wallets while they wait for others. Force that: every wallet
    // is held until all twenty first batches wait for it, then let go at once; and watch pg_locks for batches
    // waiting on other batches while the storm runs.
    const blocker = await db.client();
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM wallet.wallets WHERE user_id = ANY($1) FOR UPDATE', [ids]);
    let storming = true;
    let batchOnBatch = 0;
    const watcher = (async () => {
      while (storming) {
        const { rows } = await db.admin.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity a
            WHERE a.datname = current_database() AND a.query LIKE '%wallet.transfer_batch(%'
              AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted)
              AND EXISTS (SELECT 1 FROM pg_stat_activity b WHERE b.pid = ANY (pg_blocking_pids(a.pid))
                             AND b.query LIKE '%wallet.transfer_batch(%')`,
        );
        batchOnBatch += rows[0].n;
      }
    })();
    const storm = onConnections(20, async (c) => {
      for (let k = 0; k < 15; k++) {
        const from = random.pick(ids);
        const others = ids.filter((id) => id !== from);
        const to = Array.from({ length: 1 + random.int(8) }, () => random.pick(others)); // repeats allowed
        const amounts = to.map(() => amount(random, 40));
        try {
          await c.query(BATCH, [from, to, amounts]);
          for (const [i, receiver] of to.entries()) books.move(from, receiver, amounts[i] as string);
          codes.set('ok', (codes.get('ok') ?? 0) + 1);
        } catch (e) {
          const code = (e as { code: string }).code;
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }
      }
    });
    await waitForLockWaiters(db.admin, 20, '%wallet.transfer_batch(%');
    await blocker.query('COMMIT');
    await blocker.end();
    await storm.finally(() => {
      storming = false;
    });
    await watcher;
    console.log(`[batch-storm] outcomes ${JSON.stringify(Object.fromEntries(codes))}`);
    console.log(`[batch-storm] ${batchOnBatch} sightings of a batch waiting on another batch's locks`);
    expect(batchOnBatch, 'no batch was seen waiting on another: the storm did not contend').toBeGreaterThan(
      0,
    );
    expect([...codes.keys()].filter((c) => c !== 'ok' && c !== SqlState.insufficientFunds)).toEqual([]);
    expect(codes.get('ok')).toBeGreaterThan(0);
    expect(await deadlocks()).toBe(deadlocksBefore);
    const actual = await balances(ids);
    expectBooks(books, actual);
    const total = (m: Iterable<Decimal>) => [...m].reduce((a, b) => a.plus(b), new Decimal(0));
    expect(total([...actual.values()].map((v) => new Decimal(v))).toFixed(2)).toBe(
      total(books.expected.values()).toFixed(2),
    );
    expect((await db.admin.query('SELECT * FROM wallet.audit()')).rows).toEqual([]);
  });
});

describe('a batch racing single transfers from the same sender', () => {
  it('never overdraws: what was acknowledged never exceeds the funding, and the books agree', async () => {
    const random = seededRandom('batch-vs-single');
    const books = new Books();
    const sender = await fundedUser(db.admin, 'contested', '1000.00');
    books.fund(sender, '1000.00');
    const receivers: number[] = [];
    for (let i = 0; i < 6; i++) {
      receivers.push(await fundedUser(db.admin, `contested_to${i}`));
      books.fund(receivers[i] as number, '0.00');
    }
    const deadlocksBefore = await deadlocks();
    let refused = 0;
    await onConnections(20, async (c, index) => {
      for (let k = 0; k < 10; k++) {
        const to =
          index % 2 === 0
            ? Array.from({ length: 1 + random.int(5) }, () => random.pick(receivers))
            : [random.pick(receivers)];
        const amounts = to.map(() => amount(random, 10));
        try {
          if (index % 2 === 0) await c.query(BATCH, [sender, to, amounts]);
          else await c.query(TRANSFER, [sender, to[0], amounts[0]]);
          for (const [i, receiver] of to.entries()) books.move(sender, receiver, amounts[i] as string);
        } catch (e) {
          expect((e as { code: string }).code).toBe(SqlState.insufficientFunds);
          refused++;
        }
      }
    });
    console.log(`[batch-vs-single] refused ${refused} of 200 calls`);
    expect(refused).toBeGreaterThan(0); // the sender ran dry: the race was real
    expect((books.expected.get(sender) as Decimal).isNegative()).toBe(false);
    expect(await deadlocks()).toBe(deadlocksBefore);
    expectBooks(books, await balances([sender, ...receivers]));
    expect((await db.admin.query('SELECT * FROM wallet.audit()')).rows).toEqual([]);
  });
});
