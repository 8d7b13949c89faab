// `npx tsx bench/receipts/poll-latency.ts`: what the dispatcher's poll (no NOTIFY) costs and adds.
//   1. Added latency: transfers made directly in SQL (as a DBA in psql: no API start), one at a time at random
//      moments, so each lands at a random phase of the idle poll; from COMMIT (the client's clock when the call
//      returns) to the workflow's start time as Temporal recorded it. p50/p95/max.
//   2. The idle poll's CPU: the dispatcher's PostgreSQL backend (all the poll touches in PostgreSQL) and this
//      node process (the dispatcher, plus an idle Temporal client), over BENCH_IDLE_SECONDS, polling vs stopped.
// No worker runs: the started workflows just wait (the question is when they start, not when they render).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createPool } from '../../src/db/pool.js';
import { ReceiptDispatcher } from '../../src/receipts/dispatcher.js';
import { silentLogger } from '../../src/receipts/log.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import { mulberry32 } from '../../tests/helpers/random.js';
import { benchDatabase, benchTemporal } from './stack.js';

const TRANSFERS = Number(process.env.BENCH_TRANSFERS ?? 100);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 15);
const IDLE_POLL_MS = Number(process.env.RECEIPT_SWEEP_MS ?? 200);
const seed = Number(process.env.BENCH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const log = (line: string) => console.log(`[bench:poll] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] as number;

function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const nodeCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

async function main(): Promise<void> {
  log(
    `seed ${seed}; idle poll ${IDLE_POLL_MS} ms; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const random = mulberry32(seed);
  const db = await benchDatabase();
  const temporal = await benchTemporal(0);
  const client = await connectTemporalClient({ address: temporal.address, namespace: 'default' });
  const admin = createPool({ url: db.url, max: 2 });
  const pool = createPool({ url: db.url, max: 1, role: 'wallet_app', applicationName: 'bench-dispatcher' });
  const dispatcher = new ReceiptDispatcher({
    pool,
    temporal: async () => client,
    taskQueue: 'bench-poll',
    idlePollMs: IDLE_POLL_MS,
    log: silentLogger,
  });
  try {
    const { rows: users } = await admin.query(
      "SELECT wallet.create_user('poll_' || g, NULL) AS id FROM generate_series(1, 2) g",
    );
    await admin.query('SELECT wallet.deposit($1, 1000000)', [users[0].id]);
    await admin.query('UPDATE wallet.receipts SET workflow_started_at = now()');
    dispatcher.start();

    const added: number[] = [];
    for (let i = 0; i < TRANSFERS; i++) {
      await sleep(300 + random() * 400); // long enough for the poll to back off to idle between transfers
      const { rows } = await admin.query('SELECT transaction_id FROM wallet.transfer($1, $2, 0.01)', [
        users[0].id,
        users[1].id,
      ]);
      const committedAt = Date.now();
      const handle = client.workflow.getHandle(`receipt-${rows[0].transaction_id}`);
      for (;;) {
        const started = await handle.describe().catch(() => undefined);
        if (started) {
          added.push(started.startTime.getTime() - committedAt);
          break;
        }
        await sleep(20);
      }
    }
    log(
      `commit -> workflow start, ${TRANSFERS} transfers made in SQL: p50 ${percentile(added, 0.5)} ms, ` +
        `p95 ${percentile(added, 0.95)} ms, max ${Math.max(...added)} ms (target: at most 250 ms added)`,
    );

    const { rows: backend } = await admin.query(
      "SELECT pid FROM pg_stat_activity WHERE application_name = 'bench-dispatcher'",
    );
    const phase = async (polling: boolean) => {
      if (polling) dispatcher.start();
      else await dispatcher.stop();
      await sleep(1_000);
      const before = { backend: processCpuMs(backend[0].pid), node: nodeCpuMs() };
      const sweeps = dispatcher.stats.sweeps;
      await sleep(IDLE_SECONDS * 1000);
      return {
        backend: (processCpuMs(backend[0].pid) - before.backend) / IDLE_SECONDS,
        node: (nodeCpuMs() - before.node) / IDLE_SECONDS,
        polls: (dispatcher.stats.sweeps - sweeps) / IDLE_SECONDS,
      };
    };
    const off = await phase(false);
    const on = await phase(true);
    log(
      `idle, CPU ms per second (dispatcher polling vs stopped): its PostgreSQL backend ${on.backend.toFixed(2)} vs ${off.backend.toFixed(2)}, ` +
        `node ${on.node.toFixed(2)} vs ${off.node.toFixed(2)}; ${on.polls.toFixed(1)} polls/s ` +
        `= ${(on.backend / Math.max(on.polls, 1e-9)).toFixed(2)} ms of PostgreSQL CPU per idle poll`,
    );
  } finally {
    await dispatcher.stop();
    await Promise.all([admin.end(), pool.end()]);
    await client.connection.close();
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
