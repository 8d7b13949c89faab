// `npm run bench:receipts`: the receipt pipeline end to end, in one run.
//   1. The renderer's raw rate: warm Chromium pages, no Temporal, no database.
//   2. The worker (`node --import tsx src/worker.ts`, its own process tree) with a Temporal dev server and a
//      fresh database: 1,000 transfers in a burst, then the time until every PDF is stored: receipts/s, CPU
//      per receipt per process, and p50/p95/p99 from commit to stored PDF, against the raw rate.
//   1b. The floors, in the same run: the empty one-task workflow (bench/receipts/temporal-floor.ts, on the
//      pipeline's Temporal persistence) and the raw renderer per receipt; every shape's CPU per receipt is
//      printed as a multiple of their sum (bench/receipts/floors.ts).
//   2c. A 1,000-item batch transfer from psql (BENCH_BATCH_ITEMS): CPU per receipt against the burst's, and the
//      time to all stored. 2d. The psql trickle on Temporal with a database file, against floors measured on a
//      file (BENCH_TRICKLE transfers at BENCH_TRICKLE_RATE a second; BENCH_TRICKLE=0 skips it). Both in
//      bench/receipts/shapes.ts; BENCH_FLOOR_WORKFLOWS sizes the floor runs.
//   2b. Steady load: 50 transfers/s for 60 s (BENCH_STEADY_RATE, BENCH_STEADY_SECONDS): commit to stored PDF
//      p50/p95/p99, the largest backlog seen, and how long the backlog takes to reach 0 after the load stops.
//   3. Transfer TPS (bench/receipts/tps.ts) with the worker and dispatcher running, busy with a backlog,
//      vs frozen (SIGSTOP of its whole tree), in alternating rounds (target >= 90%).
//   4. The worker's resident memory, Chromium included (sum over its process tree from /proc), sampled over
//      every receipt of the run (>= 1,000), and whether it grew from the early to the late receipts.
// Writes the figures to bench/README.md under "## Receipts". BENCH_SEED replays the transfer pattern;
// BENCH_TPS_SECONDS (per round), BENCH_RAW_RENDERS, BENCH_BURST and BENCH_MIN_RECEIPTS shrink it for a smoke
// run; BENCH_BURST_ONLY=1 stops after the burst (steps 1 and 2) and writes nothing; BENCH_WORKER_LOG=<file> keeps the worker's whole output; BENCH_SPLIT=1 adds the rounds and the burst again on split cores (about two minutes more).
// The Temporal dev server runs at the worker's niceness (BENCH_TEMPORAL_NICE overrides it): it stands in for
// a Temporal cluster on machines of its own, so on this shared machine it yields to the ledger as the worker
// does.
import { execFile, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { pagesFor } from '../../src/activities/renderer.js';
import { loadConfig } from '../../src/config.js';
import { createPool } from '../../src/db/pool.js';
import { mulberry32 } from '../../tests/helpers/random.js';
import {
  againstFloors,
  cpuByComponent,
  describeFloors,
  type Floors,
  floorSum,
  temporalFloorMs,
} from './floors.js';
import { type ProcessMemory, sampleMemory, treePids } from './memory.js';
import { writeReceiptsSection } from './readme.js';
import { BATCH_ITEMS, batchShape, trickleShape } from './shapes.js';
import { benchDatabase, benchTemporal } from './stack.js';
import { childNamed, pinProcesses, prepareTransfers, TPS_CLIENTS, transferTps } from './tps.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const USERS = 50;
const BURST = Number(process.env.BENCH_BURST ?? 1_000);
const STEADY_RATE = Number(process.env.BENCH_STEADY_RATE ?? 50);
const STEADY_SECONDS = Number(process.env.BENCH_STEADY_SECONDS ?? 60);
const CONCURRENCY = 4;
const TPS_ROUNDS = 2; // per side, alternating
const TPS_SECONDS = Number(process.env.BENCH_TPS_SECONDS ?? 5);
// Receipts waiting when the TPS rounds start, so that the worker renders throughout its running rounds.
const TPS_BACKLOG = 800;
const RAW_RENDERS = Number(process.env.BENCH_RAW_RENDERS ?? 1_000);
const MIN_RECEIPTS = Number(process.env.BENCH_MIN_RECEIPTS ?? 1_000);
const seed = Number(process.env.BENCH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const log = (line: string) => console.log(`[bench:receipts] ${line}`);

const random = mulberry32(seed);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The renderer alone, in its own process at the worker's niceness (bench/receipts/raw-renderer.ts); with
 *  cpus, on those CPUs only. */
interface RawRun {
  rate: number;
  chromiumPerReceipt: number;
  nodePerReceipt: number;
  prints: number;
  blankPrintMs: number;
}

function rawRenderer(pages: number, nice: number, cpus?: string): Promise<RawRun> {
  const args = [
    ...(cpus ? ['-c', cpus, process.execPath] : []),
    '--import',
    'tsx',
    'bench/receipts/raw-renderer.ts',
    String(RAW_RENDERS),
    String(pages),
    String(nice),
  ];
  return new Promise((resolve, reject) => {
    execFile(cpus ? 'taskset' : process.execPath, args, { cwd: ROOT }, (error, stdout) => {
      if (error) return reject(error);
      const last = stdout.trim().split('\n').pop() ?? '';
      resolve(JSON.parse(last) as RawRun);
    });
  });
}

/** `count` transfers of 0.01 between random users over CONCURRENCY connections; returns ids and TPS. */
async function transfers(pool: pg.Pool, users: number[], count: number) {
  const ids: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        next++;
        const from = users[Math.floor(random() * users.length)] as number;
        let to = users[Math.floor(random() * users.length)] as number;
        if (to === from) to = users[(users.indexOf(from) + 1) % users.length] as number;
        const { rows } = await pool.query('SELECT transaction_id FROM wallet.transfer($1, $2, 0.01)', [
          from,
          to,
        ]);
        ids.push(rows[0].transaction_id);
      }
    }),
  );
  return { ids, tps: count / ((performance.now() - started) / 1000) };
}

/** "chromium renderer x2: RSS 250 MB, PSS 120 MB" lines, largest first. */
function summarize(parts: ProcessMemory[]): string[] {
  const byRole = new Map<string, { n: number; rss: number; pss: number }>();
  for (const p of parts) {
    const r = byRole.get(p.role) ?? { n: 0, rss: 0, pss: 0 };
    byRole.set(p.role, { n: r.n + 1, rss: r.rss + p.rssKb, pss: r.pss + p.pssKb });
  }
  return [...byRole.entries()]
    .sort((a, b) => b[1].rss - a[1].rss)
    .map(
      ([role, r]) =>
        `${role}${r.n > 1 ? ` x${r.n}` : ''}: RSS ${(r.rss / 1024).toFixed(0)} MB, PSS ${(r.pss / 1024).toFixed(0)} MB`,
    );
}

function signalTree(root: number, signal: NodeJS.Signals): void {
  for (const pid of treePids(root)) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone
    }
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const pages = pagesFor(config.receiptPages);
  log(`seed ${seed} (BENCH_SEED=${seed} replays it); ${os.availableParallelism()} cores, ${pages} pages`);
  log(
    `load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  // The worker's niceness as `npm run worker` would take it (RECEIPT_WORKER_NICE, default 10).
  const nice = loadConfig(process.env, 'worker').receiptWorkerNice;
  const rawRun = await rawRenderer(pages, nice);
  const rawBefore = rawRun.rate;
  log(
    `renderer raw rate: ${rawBefore.toFixed(1)} PDFs/s (${RAW_RENDERS} renders in ${rawRun.prints} prints, warm pages, ` +
      `no Temporal, nice ${nice}); Chromium ${rawRun.chromiumPerReceipt.toFixed(1)} ms, node+qpdf ` +
      `${rawRun.nodePerReceipt.toFixed(1)} ms CPU per receipt; Chromium floor: ${rawRun.blankPrintMs.toFixed(1)} ms per blank page printed alone`,
  );

  const db = await benchDatabase();
  const temporalNice = Number(process.env.BENCH_TEMPORAL_NICE ?? nice);
  // 1b. The floors, in this run: the empty one-task workflow on the pipeline's Temporal persistence, and the
  // raw renderer per receipt just measured.
  const floors: Floors = {
    persistence: 'pipeline',
    temporalMs: await temporalFloorMs(temporalNice, 'pipeline'),
    rendererMs: rawRun.chromiumPerReceipt + rawRun.nodePerReceipt,
  };
  const floorRate = (os.availableParallelism() * 1000) / floorSum(floors);
  log(
    `${describeFloors(floors)}; floor rate ${floorRate.toFixed(1)} receipts/s on ${os.availableParallelism()} cores ` +
      `(steady target: half of it, ${(floorRate / 2).toFixed(1)}/s, p95 commit to PDF < 2 s)`,
  );
  const temporal = await benchTemporal(temporalNice);
  const tpsUrl = await db.sibling('tps');
  const tpsScript = await prepareTransfers(tpsUrl);
  const admin = createPool({ url: db.url, max: 2 });
  const app = createPool({ url: db.url, max: CONCURRENCY, role: 'wallet_app' });
  const users: number[] = [];
  for (let i = 0; i < USERS; i++) {
    const { rows } = await admin.query('SELECT wallet.create_user($1, NULL) AS id', [`bench_user_${i}`]);
    users.push(rows[0].id);
    await admin.query('SELECT * FROM wallet.deposit($1, 1000000)', [rows[0].id]);
  }

  let output = '';
  const worker = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: db.url, TEMPORAL_ADDRESS: temporal.address, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killWorker = () => worker.kill('SIGKILL');
  process.once('exit', killWorker);
  const exited = new Promise<number | null>((resolve) => worker.once('close', resolve));
  const onOutput = (chunk: Buffer) => {
    output += chunk.toString();
    if (process.env.BENCH_WORKER_LOG) appendFileSync(process.env.BENCH_WORKER_LOG, chunk);
    for (const line of chunk.toString().split('\n'))
      if (/ (WARN|ERROR) /.test(line)) console.log(`  worker: ${line}`);
  };
  worker.stdout.on('data', onOutput);
  worker.stderr.on('data', onOutput);
  while (!output.includes('receipt worker started')) {
    if (worker.exitCode !== null) throw new Error(`worker exited early:\n${output}`);
    await sleep(100);
  }
  const pid = worker.pid as number;

  let rendered = 0;
  const progress = setInterval(() => {
    admin.query("SELECT count(*) AS n FROM wallet.receipts WHERE status = 'rendered'").then(
      ({ rows }) => {
        rendered = rows[0].n;
      },
      () => undefined,
    );
  }, 250);
  const memory = sampleMemory(pid, 500, () => rendered);
  const allRendered = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await admin.query(
        "SELECT count(*) FILTER (WHERE status = 'pending') AS n FROM wallet.receipts",
      );
      if (rows[0].n === 0) return;
      if (Date.now() > deadline) throw new Error(`${rows[0].n} receipts still pending after ${timeoutMs} ms`);
      await sleep(100);
    }
  };
  await allRendered(300_000); // the deposits' receipts: the worker's warm-up

  // 2. A burst of transfers, then the time until every PDF is stored; and who spent the CPU meanwhile.
  const latencies = async (ids: number[]) => {
    const { rows } = await admin.query(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99,
              extract(epoch FROM max(rendered_at) - min(created_at)) AS seconds
         FROM (SELECT extract(epoch FROM r.rendered_at - t.created_at) * 1000 AS ms, r.rendered_at, t.created_at
                 FROM wallet.receipts r JOIN wallet.transactions t ON t.id = r.transaction_id
                WHERE t.id = ANY ($1)) x`,
      [ids],
    );
    return {
      seconds: Number(rows[0].seconds),
      p50: Number(rows[0].p50),
      p95: Number(rows[0].p95),
      p99: Number(rows[0].p99),
    };
  };
  const cpuSince = (before: Map<string, number>, receipts: number) => {
    const perReceipt = [...cpuByComponent(pid, temporal.cpuPids()).entries()].map(
      ([name, ms]) => [name, (ms - (before.get(name) ?? 0)) / receipts] as const,
    );
    return {
      cpuMsPerReceipt: perReceipt.reduce((total, [, ms]) => total + ms, 0),
      cpuPerReceipt: perReceipt.map(([name, ms]) => `${name} ${ms.toFixed(1)} ms`),
    };
  };
  const measureBurst = async () => {
    const cpuBefore = cpuByComponent(pid, temporal.cpuPids());
    const burst = await transfers(app, users, BURST);
    await allRendered(600_000);
    const cpu = cpuSince(cpuBefore, BURST);
    const l = await latencies(burst.ids);
    return { ...l, pipeline: BURST / l.seconds, ...cpu };
  };
  const burst = await measureBurst();
  const { pipeline, p50, p95, p99, cpuMsPerReceipt, cpuPerReceipt } = burst;
  log(
    `CPU per receipt during the burst: ${cpuPerReceipt.join(', ')}; ${cpuMsPerReceipt.toFixed(1)} ms in all`,
  );
  // Measured again right after the burst (the worker idle): on a shared machine the load drifts, and the
  // ratio should compare the pipeline with the renderer under the same conditions.
  const rawAfter = (await rawRenderer(pages, nice)).rate;
  const raw = (rawBefore + rawAfter) / 2;
  log(`renderer raw rate after the burst: ${rawAfter.toFixed(1)} PDFs/s; mean ${raw.toFixed(1)}`);
  log(`pipeline: ${BURST} receipts in ${burst.seconds.toFixed(1)} s = ${pipeline.toFixed(1)} receipts/s`);
  log(`commit -> stored PDF: p50 ${p50.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`);
  log(`pipeline / raw renderer: ${((pipeline / raw) * 100).toFixed(0)}%`);
  log(againstFloors('API burst', cpuMsPerReceipt, floors));

  // 2c. A batch transfer's receipts (one workflow per 100 items), against the burst's single receipts.
  const batch = await batchShape(admin, users, () => cpuByComponent(pid, temporal.cpuPids()));
  log(
    `batch of ${BATCH_ITEMS} items from psql: all stored ${batch.seconds.toFixed(1)} s after its commit (target <= 10 s); ` +
      `CPU per receipt ${batch.cpuPerReceipt.join(', ')} (${batch.cpuMsPerReceipt.toFixed(1)} ms) = ` +
      `${(batch.cpuMsPerReceipt / cpuMsPerReceipt).toFixed(2)}x the burst's single receipt (target <= 0.2x); ` +
      `${(batch.cpuMsPerReceipt / floorSum(floors)).toFixed(2)}x the floor sum`,
  );

  // 2d. The psql trickle on Temporal with a database file (its own stack), against floors on a file too.
  if (process.env.BENCH_TRICKLE !== '0') {
    const fileFloors: Floors = {
      ...floors,
      persistence: 'file',
      temporalMs: await temporalFloorMs(temporalNice, 'file'),
    };
    log(describeFloors(fileFloors));
    const trickle = await trickleShape(await db.sibling('trickle'), temporalNice);
    log(
      `psql trickle (${trickle.transfers} transfers at ${trickle.rate}/s, one at a time, Temporal on a file): ` +
        `commit -> stored PDF p50 ${trickle.p50.toFixed(0)} ms, p95 ${trickle.p95.toFixed(0)} ms; CPU per receipt ` +
        `${trickle.cpuPerReceipt.join(', ')}`,
    );
    log(againstFloors('psql trickle', trickle.cpuMsPerReceipt, fileFloors));
  }
  if (process.env.BENCH_BURST_ONLY === '1') {
    // A quick look at one change: the burst alone, nothing written to bench/README.md.
    clearInterval(progress);
    memory.stop();
    worker.kill('SIGTERM');
    await exited;
    process.off('exit', killWorker);
    await Promise.all([admin.end(), app.end()]);
    await temporal.stop();
    await db.stop();
    await rm(tpsScript, { force: true });
    return;
  }

  // 2b. Steady load: transfers at a fixed rate, the backlog sampled as it goes.
  const steady = await steadyLoad(
    app,
    admin,
    users,
    (before, n) => cpuSince(before, n),
    () => cpuByComponent(pid, temporal.cpuPids()),
  );
  const steadyLatency = await latencies(steady.ids);
  log(
    `steady ${STEADY_RATE} transfers/s for ${STEADY_SECONDS} s (${steady.ids.length} sent, ${steady.achieved.toFixed(1)}/s achieved): ` +
      `commit -> stored PDF p50 ${steadyLatency.p50.toFixed(0)} ms, p95 ${steadyLatency.p95.toFixed(0)} ms, p99 ${steadyLatency.p99.toFixed(0)} ms; ` +
      `largest backlog ${steady.maxBacklog}; backlog at 0 ${(steady.drainMs / 1000).toFixed(1)} s after the load stopped; ` +
      `CPU per receipt ${steady.cpu.cpuPerReceipt.join(', ')} (${steady.cpu.cpuMsPerReceipt.toFixed(1)} ms)`,
  );

  log(againstFloors(`steady ${STEADY_RATE}/s`, steady.cpu.cpuMsPerReceipt, floors));

  // 3. Transfer TPS with the worker running (rendering a backlog) vs frozen, alternating: first on shared
  // cores, as everything else in this run; then with the cores split between the ledger and the receipts.
  await transfers(app, users, TPS_BACKLOG);
  const rounds = async (cpus?: string) => {
    const on: number[] = [];
    const off: number[] = [];
    const cpuOn = new Map<string, number>();
    const renderedBefore = rendered;
    for (let round = 0; round < TPS_ROUNDS * 2; round++) {
      const running = round % 4 === 0 || round % 4 === 3; // on, off, off, on: order effects cancel out
      if (!running) signalTree(pid, 'SIGSTOP');
      const before = cpuByComponent(pid, temporal.cpuPids());
      const started = performance.now();
      try {
        (running ? on : off).push(await transferTps(tpsUrl, tpsScript, TPS_SECONDS, cpus));
      } finally {
        if (!running) signalTree(pid, 'SIGCONT');
      }
      if (running) {
        const seconds = (performance.now() - started) / 1000;
        for (const [k, v] of cpuByComponent(pid, temporal.cpuPids())) {
          cpuOn.set(k, (cpuOn.get(k) ?? 0) + (v - (before.get(k) ?? 0)) / 1000 / seconds / TPS_ROUNDS);
        }
      }
    }
    const { rows } = await admin.query("SELECT count(*) AS n FROM wallet.receipts WHERE status = 'pending'");
    const result = {
      tpsOn: mean(on),
      tpsOff: mean(off),
      rendered: rendered - renderedBefore,
      cpuWhileOn: [...cpuOn.entries()].map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`),
    };
    const where = cpus ? `ledger on CPU ${cpus}, receipts on the others` : 'shared cores';
    log(`${where}: CPU (share of one core) while the worker ran: ${result.cpuWhileOn.join(', ')}`);
    log(
      `${where}: the worker rendered ${result.rendered} receipts in the running rounds; ${rows[0].n} still pending` +
        (rows[0].n === 0 ? ' (the backlog ran out: the running rounds were partly idle)' : ''),
    );
    log(
      `${where}: transfer TPS (pgbench, ${TPS_CLIENTS} clients, ${TPS_SECONDS} s rounds): worker running ` +
        `${result.tpsOn.toFixed(0)}, frozen ${result.tpsOff.toFixed(0)} -> ${((result.tpsOn / result.tpsOff) * 100).toFixed(0)}%`,
    );
    return result;
  };
  const shared = await rounds();
  const { tpsOn, tpsOff, cpuWhileOn } = shared;
  // Split cores, production's shape on two cores: the ledger (PostgreSQL with its future backends, pgbench,
  // this process) on CPU 0, the receipt worker tree on the others. For the TPS rounds Temporal sits with the
  // worker (the question: does receipt work slow the ledger?); for the pipeline burst it moves to the ledger's
  // core (the question: does orchestration slow the renderer?). Only where this run owns the PostgreSQL server
  // and there are two cores to split.
  const postmaster = db.embedded ? childNamed(process.pid, 'postgres') : undefined;
  let split: Awaited<ReturnType<typeof rounds>> | undefined;
  let splitBurst: (Awaited<ReturnType<typeof measureBurst>> & { raw: number }) | undefined;
  if (process.env.BENCH_SPLIT === '1' && postmaster && os.availableParallelism() >= 2) {
    const everyCpu = `0-${os.availableParallelism() - 1}`;
    const receiptCpus = `1-${os.availableParallelism() - 1}`;
    const temporalTree = () => temporal.cpuPids().flatMap((p) => treePids(p));
    pinProcesses([...treePids(postmaster), process.pid], '0');
    pinProcesses([...treePids(pid), ...temporalTree()], receiptCpus);
    try {
      split = await rounds('0');
      await allRendered(600_000); // the rest of the backlog: the worker must be idle for the raw rate
      pinProcesses(temporalTree(), '0');
      const rawSplitBefore = (await rawRenderer(pages, nice, receiptCpus)).rate;
      const measured = await measureBurst();
      const rawSplit = (rawSplitBefore + (await rawRenderer(pages, nice, receiptCpus)).rate) / 2;
      splitBurst = { ...measured, raw: rawSplit };
      log(
        `split cores: pipeline ${measured.pipeline.toFixed(1)} receipts/s, raw renderer on CPU ${receiptCpus.replace(/^(\d+)-\1$/, '$1')} ` +
          `${rawSplit.toFixed(1)} PDFs/s: ${((measured.pipeline / rawSplit) * 100).toFixed(0)}% (target >= 80%); ` +
          `p50 ${measured.p50.toFixed(0)} ms, p95 ${measured.p95.toFixed(0)} ms; CPU per receipt: ${measured.cpuPerReceipt.join(', ')}`,
      );
    } finally {
      pinProcesses([...treePids(postmaster), process.pid, ...treePids(pid), ...temporalTree()], everyCpu);
    }
  }

  // 4. Drain, topping up to MIN_RECEIPTS; the memory sampler has run since the worker started.
  const { rows: count } = await admin.query('SELECT count(*) AS n FROM wallet.receipts');
  if (count[0].n < MIN_RECEIPTS) await transfers(app, users, MIN_RECEIPTS - count[0].n);
  await allRendered(1_800_000);
  clearInterval(progress);
  const { rows: final } = await admin.query(
    "SELECT count(*) AS total, count(*) FILTER (WHERE status = 'rendered' AND pdf IS NOT NULL) AS rendered FROM wallet.receipts",
  );
  rendered = final[0].rendered;
  const samples = memory.stop();
  const total: number = final[0].total;
  const peakRss = Math.max(...samples.map((s) => s.rssKb));
  const peakPss = Math.max(...samples.map((s) => s.pssKb));
  const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
  const avg = (lo: number, hi: number, key: 'rssKb' | 'nodeRssKb' = 'rssKb') => {
    const xs = samples.filter((s) => s.progress >= lo && s.progress <= hi).map((s) => s[key]);
    return xs.length ? mean(xs) : Number.NaN;
  };
  const early = avg(total * 0.1, total * 0.3);
  const late = avg(total * 0.8, total);
  const nodeEarly = avg(total * 0.1, total * 0.3, 'nodeRssKb');
  const nodeLate = avg(total * 0.8, total, 'nodeRssKb');
  log(
    `  of which node: ${mb(nodeEarly)} -> ${mb(nodeLate)}; Chromium: ${mb(early - nodeEarly)} -> ${mb(late - nodeLate)}`,
  );
  const growth = ((late - early) / early) * 100;
  log(`worker tree memory over ${total} receipts: peak RSS sum ${mb(peakRss)}, peak PSS sum ${mb(peakPss)}`);
  log(
    `RSS early (10-30% of receipts) ${mb(early)}, late (80-100%) ${mb(late)}: ${growth >= 0 ? '+' : ''}${growth.toFixed(1)}%`,
  );
  const breakdown = summarize(memory.peak()?.parts ?? []);
  for (const line of breakdown) log(`  at the peak: ${line}`);

  const { rows: audit } = await admin.query('SELECT * FROM wallet.audit()');
  const loadAvg = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

  worker.kill('SIGTERM');
  const code = await exited;
  process.off('exit', killWorker);
  await admin.end();
  await app.end();
  await temporal.stop();
  await db.stop();
  await rm(tpsScript, { force: true });

  const figures = {
    seed,
    cores: os.availableParallelism(),
    pages,
    raw,
    rawBefore,
    rawAfter,
    pipeline,
    p50,
    p95,
    p99,
    burst: BURST,
    rawChromiumMs: rawRun.chromiumPerReceipt,
    rawNodeMs: rawRun.nodePerReceipt,
    rawPrints: rawRun.prints,
    rawRenders: RAW_RENDERS,
    blankPrintMs: rawRun.blankPrintMs,
    steady: {
      rate: STEADY_RATE,
      sent: steady.ids.length,
      achieved: steady.achieved,
      ...steadyLatency,
      seconds: STEADY_SECONDS,
      maxBacklog: steady.maxBacklog,
      drainMs: steady.drainMs,
      cpuPerReceipt: steady.cpu.cpuPerReceipt,
      cpuMsPerReceipt: steady.cpu.cpuMsPerReceipt,
    },
    tpsOn,
    tpsOff,
    receipts: total,
    rendered: final[0].rendered as number,
    peakRss,
    peakPss,
    early,
    late,
    growth,
    nodeEarly,
    nodeLate,
    processes: Math.max(...samples.map((s) => s.processes)),
    audit: audit.length,
    workerExit: code,
    loadAvg,
    database: db.embedded ? 'embedded PostgreSQL 18' : 'DATABASE_URL',
    temporalNice,
    breakdown,
    cpuPerReceipt,
    cpuMsPerReceipt,
    cpuWhileOn,
    split: split && { tpsOn: split.tpsOn, tpsOff: split.tpsOff, rendered: split.rendered },
    splitBurst: splitBurst && {
      pipeline: splitBurst.pipeline,
      raw: splitBurst.raw,
      p50: splitBurst.p50,
      p95: splitBurst.p95,
      cpuPerReceipt: splitBurst.cpuPerReceipt,
    },
  };
  await writeReceiptsSection(figures);
  log(
    `every receipt rendered: ${figures.rendered}/${total}; audit problems: ${audit.length}; worker exit ${code}`,
  );
  log('figures written to bench/README.md (## Receipts)');
}

/** STEADY_RATE transfers a second for STEADY_SECONDS, paced; samples the backlog; waits for it to drain. */
async function steadyLoad(
  app: pg.Pool,
  admin: pg.Pool,
  users: number[],
  cpuSince: (before: Map<string, number>, n: number) => { cpuMsPerReceipt: number; cpuPerReceipt: string[] },
  cpuNow: () => Map<string, number>,
) {
  const backlog = async () =>
    Number(
      (await admin.query("SELECT count(*) AS n FROM wallet.receipts WHERE status = 'pending'")).rows[0].n,
    );
  let maxBacklog = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      maxBacklog = Math.max(maxBacklog, await backlog());
      await sleep(200);
    }
  })();
  const before = cpuNow();
  const ids: number[] = [];
  const total = STEADY_RATE * STEADY_SECONDS;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / STEADY_RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(
      (async () => {
        const from = users[Math.floor(random() * users.length)] as number;
        let to = users[Math.floor(random() * users.length)] as number;
        if (to === from) to = users[(users.indexOf(from) + 1) % users.length] as number;
        const { rows } = await app.query('SELECT transaction_id FROM wallet.transfer($1, $2, 0.01)', [
          from,
          to,
        ]);
        ids.push(rows[0].transaction_id);
      })(),
    );
  }
  await Promise.all(inFlight);
  const stopped = performance.now();
  const achieved = total / ((stopped - started) / 1000);
  while ((await backlog()) > 0) await sleep(50);
  const drainMs = performance.now() - stopped;
  sampling = false;
  await sampler;
  return { ids, achieved, maxBacklog, drainMs, cpu: cpuSince(before, total) };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
