// Two shapes of bench:receipts beside the burst and the steady load (issue 19, part 1):
// - batch: one batch transfer of BENCH_BATCH_ITEMS (1,000) items from psql, its receipts printed by batch
//   workflows (one per 100 items): CPU per receipt, as a ratio to the same run's single-receipt (burst) cost
//   (target <= 0.2x), and the time from its commit to its last stored PDF (target <= 10 s);
// - psql trickle: BENCH_TRICKLE transfers committed one at a time from one psql-like session, at
//   BENCH_TRICKLE_RATE a second, the dispatcher starting their workflows, Temporal on a database file as in
//   `npm run dev`: a stack of its own (dev server, worker process, database), judged against the floors
//   measured on a database file too.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { cpuByComponent, cpuPerReceiptSince, fileTemporal } from './floors.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BATCH_ITEMS = Number(process.env.BENCH_BATCH_ITEMS ?? 1_000);
const TRICKLE = Number(process.env.BENCH_TRICKLE ?? 200);
const TRICKLE_RATE = Number(process.env.BENCH_TRICKLE_RATE ?? 5);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.Client, 'query'>;

/** Waits until every given receipt is stored; then commit to stored PDF: p50, p95 and first commit to last. */
async function stored(db: Queryable, ids: number[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query(
      "SELECT count(*)::int AS n FROM wallet.receipts WHERE transaction_id = ANY ($1) AND status = 'pending'",
      [ids],
    );
    if (rows[0].n === 0) break;
    if (Date.now() > deadline) throw new Error(`${rows[0].n} receipts still pending after ${timeoutMs} ms`);
    await sleep(50);
  }
  const { rows } = await db.query(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95,
            extract(epoch FROM max(rendered_at) - min(created_at)) AS seconds
       FROM (SELECT extract(epoch FROM r.rendered_at - t.created_at) * 1000 AS ms, r.rendered_at, t.created_at
               FROM wallet.receipts r JOIN wallet.transactions t ON t.id = r.transaction_id
              WHERE t.id = ANY ($1)) x`,
    [ids],
  );
  return { p50: Number(rows[0].p50), p95: Number(rows[0].p95), seconds: Number(rows[0].seconds) };
}

/** The batch shape on the run's own stack; `cpuNow` reads that stack's CPU (worker, Temporal, PostgreSQL). */
export async function batchShape(admin: Queryable, users: number[], cpuNow: () => Map<string, number>) {
  const [sender, ...receivers] = users as [number, ...number[]];
  const to = Array.from({ length: BATCH_ITEMS }, (_, i) => receivers[i % receivers.length] as number);
  const before = cpuNow();
  const { rows } = await admin.query(
    'SELECT transaction_id FROM wallet.transfer_batch($1, $2::bigint[], $3::numeric[])',
    [sender, to, to.map(() => '0.01')],
  );
  const ids = rows.map((r) => r.transaction_id as number);
  const latency = await stored(admin, ids, 600_000);
  return { items: BATCH_ITEMS, ...latency, ...cpuPerReceiptSince(before, cpuNow(), BATCH_ITEMS) };
}

/** The psql trickle on a stack of its own: Temporal on a database file, a worker process, `dbUrl`. */
export async function trickleShape(dbUrl: string, temporalNice: number) {
  const temporal = await fileTemporal(temporalNice);
  const worker = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: dbUrl, TEMPORAL_ADDRESS: temporal.address, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killWorker = () => worker.kill('SIGKILL');
  process.once('exit', killWorker);
  const exited = new Promise((resolve) => worker.once('close', resolve));
  let output = '';
  worker.stdout.on('data', (chunk) => {
    output += chunk;
  });
  worker.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const psql = new pg.Client(dbUrl); // a DBA's session: superuser, no API lease on its receipts
  await psql.connect();
  try {
    const { rows: made } = await psql.query(
      "SELECT wallet.create_user('trickle_' || g, NULL) AS id FROM generate_series(1, 2) g ORDER BY g",
    );
    const [a, b] = made.map((r) => r.id as number) as [number, number];
    const { rows: funded } = await psql.query('SELECT transaction_id FROM wallet.deposit($1, 1000000)', [a]);
    await stored(psql, [funded[0].transaction_id], 300_000); // the worker is up and warm
    const cpuNow = () => cpuByComponent(worker.pid ?? 0, [temporal.process.pid ?? 0]);
    const before = cpuNow();
    const ids: number[] = [];
    const started = performance.now();
    for (let i = 0; i < TRICKLE; i++) {
      const wait = started + (i * 1000) / TRICKLE_RATE - performance.now();
      if (wait > 0) await sleep(wait);
      const { rows } = await psql.query('SELECT transaction_id FROM wallet.transfer($1, $2, 0.01)', [a, b]);
      ids.push(rows[0].transaction_id);
    }
    const latency = await stored(psql, ids, 600_000);
    return {
      transfers: TRICKLE,
      rate: TRICKLE_RATE,
      ...latency,
      ...cpuPerReceiptSince(before, cpuNow(), TRICKLE),
    };
  } catch (error) {
    console.log(`trickle worker output:\n${output}`);
    throw error;
  } finally {
    await psql.end();
    worker.kill('SIGTERM');
    await exited;
    process.off('exit', killWorker);
    await temporal.stop();
  }
}
