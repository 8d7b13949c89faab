// wallet.balance_at latency with BENCH_ENTRIES (default 1,000,000) entries, half of them on the wallet asked
// about (issue 18's target: under 1 ms). Two figures: the server's own time per call (a loop inside one
// statement, no round trip) and a client's prepared call (with the round trip). Instants are drawn uniformly
// over the ledger's history, seeded (BENCH_SEED). Run it on a quiet machine.
import os from 'node:os';
import pg from 'pg';
import { mulberry32 } from '../../tests/helpers/random.js';
import { populatedLedger } from './populate.js';

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const CALLS = Number(process.env.BENCH_CALLS ?? 5_000);
const seed = Number(process.env.BENCH_SEED ?? 18);
const random = mulberry32(seed);

const ledger = await populatedLedger(ENTRIES);
try {
  const db = new pg.Client(ledger.url);
  await db.connect();
  const span = (
    await db.query(
      `SELECT extract(epoch FROM min(created_at)) AS lo, extract(epoch FROM max(created_at)) AS hi,
              count(*) FILTER (WHERE user_id = 1) AS mine, count(*) AS total FROM wallet.entries`,
    )
  ).rows[0];
  const lo = Number(span.lo);
  const hi = Number(span.hi);
  // One statement making CALLS calls: its time over CALLS is the server's time per call, no round trips.
  await db.query('SELECT setseed($1)', [(seed % 1000) / 1000]);
  let t = performance.now();
  await db.query(
    `SELECT count(wallet.balance_at(1, to_timestamp($2 + random() * $3))) FROM generate_series(1, $1) g`,
    [CALLS, lo, hi - lo],
  );
  const serverMs = (performance.now() - t) / CALLS;
  const latencies: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const at = new Date((lo + random() * (hi - lo)) * 1000).toISOString();
    t = performance.now();
    await db.query({ name: 'balance_at', text: 'SELECT wallet.balance_at($1, $2)', values: [1, at] });
    latencies.push(performance.now() - t);
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => (latencies[Math.floor((latencies.length - 1) * p)] as number).toFixed(3);
  await db.end();
  console.log(
    `\n${os.availableParallelism()} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ` + `${span.total} entries (${span.mine} on wallet 1), ${CALLS} calls, seed ${seed}`,
  );
  console.log(`server time per call:       ${serverMs.toFixed(3)} ms (target < 1 ms)`);
  console.log(`client, prepared: median ${pct(0.5)} ms, p99 ${pct(0.99)} ms (with the round trip)`);
} finally {
  await ledger.stop();
}
