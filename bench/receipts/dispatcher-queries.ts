// `npx tsx bench/receipts/dispatcher-queries.ts`: the dispatcher's queries (and /ready's) at no backlog, just
// past /ready's cap and at 200,000 pending receipts, and the ratios: each must cost the same whatever the
// backlog (issue 19, part 4). Three scratch databases on one server, filled in seconds with generate_series
// (tests/helpers/receipt-backlog.ts):
//   - "empty": one claim's worth of unstarted receipts (100) and a window's worth in flight (100);
//   - "cap+1": 10,001 unstarted (a tenth with a lapsed lease), the same 100 in flight: /ready's counts stop at
//     wallet.receipt_backlog_count_cap() (10,000), so from here on their cost must not grow;
//   - "backlog": BENCH_BACKLOG (200,000) unstarted, a tenth of them with a lapsed API lease (an API whose
//     starts failed during an outage leaves those), the same 100 in flight, and 200,000 rendered receipts.
// Each query runs BENCH_QUERY_RUNS times (after 20 warm-up runs) on one connection; what changes rows (claim,
// mark, release) runs in a transaction rolled back, so every run sees the same backlog. Prints the median and
// p95 in ms per query and shape, backlog/empty and backlog/cap+1 (/ready's figure: its cost at the cap is its
// cost at any backlog; its answer in each shape is printed, to show the cap reached). Timings mean something
// on a quiet machine only; the plans behind them are checked, without timing, by
// tests/db/dispatcher-plans.test.ts.
import pg from 'pg';
import { RECEIPT_BACKLOG_COUNT_CAP as CAP } from '../../src/db/rows.js';
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
    name: '/ready backlog (receipt_backlog, capped)',
    once: (db) => timed(db, 'SELECT * FROM wallet.receipt_backlog()'),
  },
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

async function measure(url: string, label: string): Promise<Map<string, { median: number; p95: number }>> {
  const db = new pg.Client(url);
  await db.connect();
  try {
    const { rows } = await db.query(
      'SELECT pending::integer, pending_capped, unstarted::integer, unstarted_capped FROM wallet.receipt_backlog()',
    );
    console.log(`${label}: receipt_backlog() says ${JSON.stringify(rows[0])}`);
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
  const shapes = [
    { label: 'empty', url: scratch.url, unstarted: 100, lapsed: 0, rendered: 0 },
    // Just past /ready's cap: its counts stop here, so from this shape on their cost no longer grows.
    {
      label: 'cap+1',
      url: await scratch.sibling('cap'),
      unstarted: CAP + 1,
      lapsed: Math.floor(CAP / 10),
      rendered: 0,
    },
    {
      label: `${BACKLOG / 1000}k`,
      url: await scratch.sibling('backlog'),
      unstarted: BACKLOG,
      lapsed: Math.floor(BACKLOG / 10),
      rendered: BACKLOG,
    },
  ];
  const fillStart = Date.now();
  for (const shape of shapes) await filled(shape.url, shape.unstarted, shape.lapsed, shape.rendered);
  console.log(
    `filled the shapes (${BACKLOG.toLocaleString('en')} pending at most) in ${Date.now() - fillStart} ms`,
  );
  const results = [];
  for (const shape of shapes) results.push(await measure(shape.url, shape.label));
  const ms = (x: number) => x.toFixed(3).padStart(8);
  const heads = shapes.map((shape) => `${`${shape.label} p50`.padStart(11)} ${'p95'.padStart(8)}`).join(' ');
  console.log(
    `${'query'.padEnd(42)} ${heads}  ${'backlog/empty'.padStart(13)} ${'backlog/cap+1'.padStart(13)}`,
  );
  for (const query of QUERIES) {
    const [empty, cap, backlog] = results.map((r) => r.get(query.name));
    if (!empty || !cap || !backlog) continue;
    const cells = [empty, cap, backlog].map((r) => `${ms(r.median).padStart(11)} ${ms(r.p95)}`).join(' ');
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`.padStart(13);
    console.log(
      `${query.name.padEnd(42)} ${cells}  ${ratio(backlog.median, empty.median)} ${ratio(backlog.median, cap.median)}`,
    );
  }
  console.log('(milliseconds per statement, client side; take figures on a quiet machine only)');
} finally {
  await scratch.stop();
}
