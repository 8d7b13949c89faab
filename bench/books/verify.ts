// How many entries per second wallet.verify() checks (issue 18's target: >= 200,000/s on a quiet machine),
// and the TypeScript verifier beside it. BENCH_ENTRIES (default 400,000) entries, BENCH_ROUNDS (3) rounds,
// medians. A load average near the core count makes the figures meaningless: run it on a quiet machine.
import os from 'node:os';
import pg from 'pg';
import { verifyChains } from '../../src/books/verifier.js';
import { populatedLedger } from './populate.js';

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 400_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const ledger = await populatedLedger(ENTRIES);
try {
  const db = new pg.Client(ledger.url);
  await db.connect();
  const total = Number((await db.query('SELECT count(*) AS n FROM wallet.entries')).rows[0].n);
  const sql: number[] = [];
  const ts: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    let t = performance.now();
    const problems = Number((await db.query('SELECT count(*) AS n FROM wallet.verify()')).rows[0].n);
    sql.push(total / ((performance.now() - t) / 1000));
    if (problems !== 0) throw new Error(`wallet.verify() found ${problems} problems in a fresh ledger`);
    t = performance.now();
    const result = await verifyChains(ledger.url);
    ts.push(result.entries / ((performance.now() - t) / 1000));
    console.log(
      `round ${round}: wallet.verify() ${sql.at(-1)?.toFixed(0)}/s, TypeScript ${ts.at(-1)?.toFixed(0)}/s`,
    );
  }
  await db.end();
  console.log(
    `\n${os.availableParallelism()} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${total} entries`,
  );
  console.log(`wallet.verify():        ${median(sql).toFixed(0)} entries/s (target >= 200000)`);
  console.log(`TypeScript verifier:    ${median(ts).toFixed(0)} entries/s`);
} finally {
  await ledger.stop();
}
