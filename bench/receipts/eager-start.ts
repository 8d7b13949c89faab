// `npx tsx bench/receipts/eager-start.ts`: does eager workflow start (the dispatcher, which lives in the worker,
// asks the server to hand the first workflow task straight to the worker on the same connection) save
// Temporal CPU per receipt? The whole worker in this process, a backlog of BENCH_RECEIPTS transfers made in
// SQL per round, rounds alternating off, on, on, off; Temporal server CPU (from /proc) and this process's CPU
// (worker node: SDK, dispatcher, renderer's node side) per receipt, and how many starts were eager.
import os from 'node:os';
import { createPool } from '../../src/db/pool.js';
import { silentLogger } from '../../src/receipts/log.js';
import { startReceiptWorker } from '../../src/receipts/receipt-worker.js';
import { quietTemporalRuntime, receiptConfig } from '../../tests/helpers/receipt-worker.js';
import { treeCpuMs } from './memory.js';
import { benchDatabase, benchTemporal } from './stack.js';

const RECEIPTS = Number(process.env.BENCH_RECEIPTS ?? 200);
const log = (line: string) => console.log(`[bench:eager] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const nodeCpuMs = () => (process.cpuUsage().user + process.cpuUsage().system) / 1000;

async function main(): Promise<void> {
  log(
    `${os.availableParallelism()} cores; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  quietTemporalRuntime();
  const db = await benchDatabase();
  const temporal = await benchTemporal(0);
  const temporalCpuMs = () => treeCpuMs(temporal.process.pid ?? 0, () => 't').get('t') ?? 0;
  const admin = createPool({ url: db.url, max: 2 });
  const results: Record<'off' | 'on', { temporal: number[]; node: number[]; eager: number }> = {
    off: { temporal: [], node: [], eager: 0 },
    on: { temporal: [], node: [], eager: 0 },
  };
  try {
    await admin.query("SELECT wallet.create_user('eager_' || g, NULL) FROM generate_series(1, 2) g");
    await admin.query('SELECT wallet.deposit(1, 1000000)');
    for (const mode of ['off', 'on', 'on', 'off'] as const) {
      const worker = await startReceiptWorker({
        config: receiptConfig(temporal.address),
        databaseUrl: db.url,
        eagerStart: mode === 'on',
        log: silentLogger,
      });
      const drained = async () => {
        for (;;) {
          const { rows } = await admin.query(
            "SELECT count(*)::int AS n FROM wallet.receipts WHERE status = 'pending'",
          );
          if (rows[0].n === 0) return;
          await sleep(100);
        }
      };
      await drained(); // the deposit's receipt, or leftovers: the worker warms up
      const before = { temporal: temporalCpuMs(), node: nodeCpuMs() };
      await admin.query('SELECT wallet.transfer(1, 2, 0.01) FROM generate_series(1, $1)', [RECEIPTS]);
      await drained();
      await sleep(500); // the last workflow tasks complete
      results[mode].temporal.push((temporalCpuMs() - before.temporal) / RECEIPTS);
      results[mode].node.push((nodeCpuMs() - before.node) / RECEIPTS);
      results[mode].eager += worker.dispatcher?.stats.startedEagerly ?? 0;
      await worker.stop();
    }
    for (const mode of ['off', 'on'] as const) {
      const r = results[mode];
      log(
        `eager start ${mode}: Temporal server ${mean(r.temporal).toFixed(1)} ms/receipt, worker node ` +
          `${mean(r.node).toFixed(1)} ms/receipt; ${r.eager} of ${2 * RECEIPTS} starts eager`,
      );
    }
  } finally {
    await admin.end();
    await temporal.stop();
    await db.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
