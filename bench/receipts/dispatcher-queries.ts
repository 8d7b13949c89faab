// `npx tsx bench/receipts/dispatcher-queries.ts`: the dispatcher's queries (and /ready's) at no backlog and at
// 200,000 pending receipts, and the ratio: each must cost the same whatever the backlog (issue 19, part 4).
// Two scratch databases on one server, filled in seconds with generate_series (tests/helpers/receipt-backlog.ts):
//   - "empty": one claim's worth of unstarted receipts (100) and a window's worth in flight (100);
//   - "backlog": BENCH_BACKLOG (200,000) unstarted, a tenth of them with a lapsed API lease (an API whose
//     starts failed during an outage leaves those), the same 100 in flight, and 200,000 rendered receipts.
// Each query runs BENCH_QUERY_RUNS times (after 20 warm-up runs) on one connection; what changes rows (claim,
// mark, release) runs in a transaction rolled back, so every run sees the same backlog. Prints the median and
// p95 in ms per query and shape, and backlog/empty. Timings mean something on a quiet machine only; the plans
// behind them are checked, without timing, by tests/db/dispatcher-plans.test.ts.
import pg from 'pg';
import { fillReceiptBacklog } from '../../tests/helpers/receipt-backlog.js';
import { scratchDatabase } from '../scratch-database.js';

const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 200_000);
const RUNS = Number(process.env.BENCH_QUERY_RUNS ?? 200);
const WARM_UP = 20;
const LEASE = "interval '15 seconds'";

interface Query {
  name: string;
  /** Runs the query once and returns how long the statement alone took, in ms. */
  once: (db: pg.Client) => Promise<number>;
}

async function timed(db: pg.Client, sql: string, values: unknown[] = []): Promise<number> {
  const start = process.hrtime.bigint();
  await db.query(sql, values);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** In a transaction rolled back: `setup` (untimed), then the timed statement. */
async function rolledBack(db: pg.Client, setup: (db: pg.Client) => Promise<unknown[]>, sql: string) {
  await db.query('BEGIN');
  try {
    return await timed(db, sql, await setup(db));
  } finally {
    await db.query('ROLLBACK');
  }
}

const claimed = async (db: pg.Client) => {
  const { rows } = await db.query(`SELECT transaction_id FROM wallet.claim_receipts('bench', 100, ${LEASE})`);
  return [rows.map((r) => r.transaction_id)];
};

const QUERIES: Query[] = [
  {
    name: 'claim 100 (claim_receipts)',
    once: (db) =>
      rolledBack(db, async () => [], `SELECT * FROM wallet.claim_receipts('bench', 100, ${LEASE})`),
  },
  {
    name: 'window count (receipts_in_flight)',
    once: (db) => timed(db, `SELECT wallet.receipts_in_flight(${LEASE})`),
  },
  {
    name: 'mark 100 started (mark_receipts_started)',
    once: (db) => rolledBack(db, claimed, 'SELECT wallet.mark_receipts_started($1::bigint[])'),
  },
  {
    name: 'release 100 (release_receipts)',
    once: (db) => rolledBack(db, claimed, "SELECT wallet.release_receipts('bench', $1::bigint[])"),
  },
  {
    name: '/ready backlog (receipt_backlog)',
    once: (db) => timed(db, 'SELECT * FROM wallet.receipt_backlog()'),
  },
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

async function measure(url: string): Promise<Map<string, { median: number; p95: number }>> {
  const db = new pg.Client(url);
  await db.connect();
  try {
    const results = new Map<string, { median: number; p95: number }>();
    for (const query of QUERIES) {
      for (let i = 0; i < WARM_UP; i++) await query.once(db);
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) times.push(await query.once(db));
      times.sort((a, b) => a - b);
      results.set(query.name, { median: percentile(times, 0.5), p95: percentile(times, 0.95) });
    }
    return results;
  } finally {
    await db.end();
  }
}

async function filled(url: string, unstarted: number, lapsed: number, rendered: number): Promise<void> {
  const db = new pg.Client(url);
  await db.connect();
  try {
    await fillReceiptBacklog(db, { unstarted, lapsedLeases: lapsed, inFlight: 100, rendered });
    await db.query('VACUUM ANALYZE wallet.receipts'); // as autovacuum would have by then: index-only scans
  } finally {
    await db.end();
  }
}

const scratch = await scratchDatabase('dispatcher');
try {
  const emptyUrl = scratch.url;
  const backlogUrl = await scratch.sibling('backlog');
  const fillStart = Date.now();
  await filled(emptyUrl, 100, 0, 0);
  await filled(backlogUrl, BACKLOG, Math.floor(BACKLOG / 10), BACKLOG);
  console.log(`filled ${BACKLOG.toLocaleString('en')} pending receipts in ${Date.now() - fillStart} ms`);
  const empty = await measure(emptyUrl);
  const backlog = await measure(backlogUrl);
  const ms = (x: number) => x.toFixed(3).padStart(8);
  console.log(
    `${'query'.padEnd(42)} ${'empty p50'.padStart(9)} ${'p95'.padStart(8)} ${`${BACKLOG / 1000}k p50`.padStart(9)} ${'p95'.padStart(8)}  ratio p50`,
  );
  for (const query of QUERIES) {
    const a = empty.get(query.name);
    const b = backlog.get(query.name);
    if (!a || !b) continue;
    console.log(
      `${query.name.padEnd(42)} ${ms(a.median)} ${ms(a.p95)} ${ms(b.median)} ${ms(b.p95)}  ${(b.median / a.median).toFixed(2)}x`,
    );
  }
  console.log('(milliseconds per statement, client side; take figures on a quiet machine only)');
} finally {
  await scratch.stop();
}
