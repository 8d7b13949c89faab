// `npx tsx bench/receipts/rate-cap.ts`: what RECEIPT_MAX_PER_SECOND buys the ledger while a backlog drains.
//   0. The pipeline's rate: the whole worker (src/worker.ts, renderer included) drains PIPELINE_BACKLOG receipts
//      (or what it renders of them in PIPELINE_MAX_SECONDS, so that a starved machine still finishes).
//   1. For each of "no cap" and "cap = half the pipeline rate": a fresh worker with that setting, a backlog of
//      BACKLOG receipts, then transfer TPS (pgbench, bench/receipts/tps.ts, in a second database on the same
//      server) in alternating rounds with the worker draining vs frozen (SIGSTOP of its tree): on, off, off, on.
// Prints both ratios (issue 19's targets: >= 70% with the cap, >= 50% without), the receipts each worker rendered,
// and where the CPU went while the worker ran: each component's share of one core, and the worker's and
// Temporal's CPU per receipt rendered in those rounds (PostgreSQL's share includes the transfers' backends,
// counted when they exit). With BENCH_SPLIT=1 both settings run again on split cores: PostgreSQL, pgbench and
// this process on CPU 0, the worker's tree and Temporal on the others (issue 19's target there: >= 95%).
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { createPool } from '../../src/db/pool.js';
import { cpuByComponent } from './floors.js';
import { childrenCpuMs, treePids } from './memory.js';
import { benchDatabase, benchTemporal } from './stack.js';
import { childNamed, pinProcesses, prepareTransfers, TPS_CLIENTS, transferTps } from './tps.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PIPELINE_BACKLOG = Number(process.env.BENCH_PIPELINE_BACKLOG ?? 300);
const PIPELINE_MAX_SECONDS = Number(process.env.BENCH_PIPELINE_MAX_SECONDS ?? 60);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 1_000);
const TPS_SECONDS = Number(process.env.BENCH_TPS_SECONDS ?? 5);
const log = (line: string) => console.log(`[bench:rate-cap] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function signalTree(root: number, signal: NodeJS.Signals): void {
  for (const pid of treePids(root)) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone
    }
  }
}

/** The worker as `npm run worker` runs it, with extra environment; resolves once it has started. */
async function startWorker(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  let output = '';
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const line of chunk.toString().split('\n'))
      if (/ (WARN|ERROR) /.test(line)) log(`  worker: ${line}`);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  while (!output.includes('receipt worker started')) {
    if (child.exitCode !== null) throw new Error(`worker exited early:\n${output}`);
    await sleep(100);
  }
  return {
    pid: child.pid as number,
    async stop() {
      signalTree(child.pid as number, 'SIGCONT');
      child.kill('SIGTERM');
      await closed;
      process.off('exit', kill);
    },
  };
}

async function backlog(admin: pg.Pool, n: number): Promise<void> {
  await admin.query('SELECT wallet.transfer(1, 2, 0.01) FROM generate_series(1, $1)', [n]);
}

async function rendered(admin: pg.Pool): Promise<number> {
  const { rows } = await admin.query(
    "SELECT count(*)::int AS n FROM wallet.receipts WHERE status = 'rendered'",
  );
  return rows[0].n;
}

async function pending(admin: pg.Pool): Promise<number> {
  const { rows } = await admin.query(
    "SELECT count(*)::int AS n FROM wallet.receipts WHERE status = 'pending'",
  );
  return rows[0].n;
}

async function walLsn(admin: pg.Pool): Promise<string> {
  return (await admin.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn;
}

async function walSince(admin: pg.Pool, lsn: string): Promise<number> {
  const { rows } = await admin.query('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)::float8 AS b', [
    lsn,
  ]);
  return rows[0].b;
}

async function main(): Promise<void> {
  log(
    `${os.availableParallelism()} cores; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const db = await benchDatabase();
  const temporal = await benchTemporal(Number(process.env.RECEIPT_WORKER_NICE || 10));
  const tpsUrl = await db.sibling('tps');
  const script = await prepareTransfers(tpsUrl);
  const admin = createPool({ url: db.url, max: 2 });
  const env = { DATABASE_URL: db.url, TEMPORAL_ADDRESS: temporal.address };
  try {
    await admin.query("SELECT wallet.create_user('cap_' || g, NULL) FROM generate_series(1, 2) g");
    await admin.query('SELECT wallet.deposit(1, 1000000)');

    // 0. The pipeline's rate, uncapped.
    let worker = await startWorker(env);
    await backlog(admin, PIPELINE_BACKLOG);
    const started = performance.now();
    const renderedAtStart = await rendered(admin);
    const elapsed = () => (performance.now() - started) / 1000;
    while ((await pending(admin)) > 0 && elapsed() < PIPELINE_MAX_SECONDS) await sleep(100);
    const pipeline = ((await rendered(admin)) - renderedAtStart) / elapsed();
    await worker.stop();
    const cap = Math.max(1, Math.floor(pipeline / 2));
    log(
      `pipeline (whole worker, ${PIPELINE_BACKLOG} receipts): ${pipeline.toFixed(1)} receipts/s; cap ${cap}/s`,
    );

    const ratios: Record<string, number> = {};
    const postmaster = childNamed(process.pid, 'postgres');
    const split =
      process.env.BENCH_SPLIT === '1' && postmaster !== undefined && os.availableParallelism() >= 2;
    const everyCpu = `0-${os.availableParallelism() - 1}`;
    const receiptCpus = `1-${os.availableParallelism() - 1}`;
    const settings = [
      ['no cap', 0, undefined],
      [`cap ${cap}/s`, cap, undefined],
      ...(split
        ? ([
            ['split cores, no cap', 0, '0'],
            [`split cores, cap ${cap}/s`, cap, '0'],
          ] as const)
        : []),
    ] as const;
    for (const [label, perSecond, ledgerCpus] of settings) {
      worker = await startWorker({ ...env, RECEIPT_MAX_PER_SECOND: String(perSecond) });
      const temporalTree = () => temporal.cpuPids().flatMap((pid) => treePids(pid));
      if (ledgerCpus && postmaster) {
        pinProcesses([...treePids(postmaster), process.pid], ledgerCpus);
        pinProcesses([...treePids(worker.pid), ...temporalTree()], receiptCpus);
      }
      await backlog(admin, BACKLOG);
      // The rounds compare a draining worker with a frozen one: wait until it really renders.
      const warm = (await rendered(admin)) + 2;
      const deadline = Date.now() + 60_000;
      while ((await rendered(admin)) < warm && Date.now() < deadline) await sleep(100);
      const on: number[] = [];
      const off: number[] = [];
      const renderedBefore = await rendered(admin);
      // CPU ms per component over the running rounds only, and the receipts rendered in them.
      const cpuOn = new Map<string, number>();
      let renderedOn = 0;
      let secondsOn = 0;
      const cpuNow = () => {
        const byComponent = cpuByComponent(worker.pid, temporal.cpuPids());
        // The transfers' backends exit with each pgbench run: their CPU is in the postmaster's reaped counters.
        const reaped = postmaster ? childrenCpuMs(postmaster) : 0;
        byComponent.set('PostgreSQL', (byComponent.get('PostgreSQL') ?? 0) + reaped);
        return byComponent;
      };
      // WAL written in each kind of round: frozen rounds give a transfer's, running rounds add the receipts'.
      const wal = { on: 0, off: 0, transfersOn: 0, transfersOff: 0 };
      for (const running of [true, false, false, true]) {
        if (!running) signalTree(worker.pid, 'SIGSTOP');
        const before = cpuNow();
        const renderedAtStart = await rendered(admin);
        const walAtStart = await walLsn(admin);
        const started = performance.now();
        try {
          (running ? on : off).push(await transferTps(tpsUrl, script, TPS_SECONDS, ledgerCpus));
        } finally {
          if (!running) signalTree(worker.pid, 'SIGCONT');
        }
        const walBytes = await walSince(admin, walAtStart);
        const transfers = (running ? on : off).at(-1) ?? 0;
        if (running)
          [wal.on, wal.transfersOn] = [wal.on + walBytes, wal.transfersOn + transfers * TPS_SECONDS];
        else [wal.off, wal.transfersOff] = [wal.off + walBytes, wal.transfersOff + transfers * TPS_SECONDS];
        if (running) {
          await sleep(200); // the last backends exit and are reaped
          secondsOn += (performance.now() - started) / 1000;
          renderedOn += (await rendered(admin)) - renderedAtStart;
          for (const [k, v] of cpuNow()) cpuOn.set(k, (cpuOn.get(k) ?? 0) + v - (before.get(k) ?? 0));
        }
      }
      const drained = (await rendered(admin)) - renderedBefore;
      await worker.stop();
      if (ledgerCpus && postmaster)
        pinProcesses([...treePids(postmaster), process.pid, ...temporalTree()], everyCpu);
      const share = [...cpuOn].map(([k, ms]) => `${k} ${((ms / 1000 / secondsOn) * 100).toFixed(0)}%`);
      const perReceipt = [...cpuOn]
        .filter(([k]) => k !== 'PostgreSQL')
        .map(([k, ms]) => `${k} ${(ms / Math.max(1, renderedOn)).toFixed(1)}`);
      const receiptMs = [...cpuOn].filter(([k]) => k !== 'PostgreSQL').reduce((t, [, ms]) => t + ms, 0);
      log(`${label}: CPU while the worker ran (share of one core): ${share.join(', ')}`);
      const walPerTransfer = wal.off / Math.max(1, wal.transfersOff);
      const walPerReceipt = (wal.on - wal.transfersOn * walPerTransfer) / Math.max(1, renderedOn);
      log(
        `${label}: WAL ${(walPerTransfer / 1024).toFixed(1)} KiB per transfer (frozen rounds), ` +
          `${(walPerReceipt / 1024).toFixed(1)} KiB per stored receipt (running rounds, transfers' share taken out)`,
      );
      log(
        `${label}: ${renderedOn} receipts in the running rounds, ${(receiptMs / Math.max(1, renderedOn)).toFixed(1)} ms ` +
          `CPU per receipt outside PostgreSQL (${perReceipt.join(', ')} ms)`,
      );
      ratios[label] = mean(on) / mean(off);
      log(
        `${label}: transfer TPS (pgbench, ${TPS_CLIENTS} clients, ${TPS_SECONDS} s rounds) while the backlog ` +
          `drains ${mean(on).toFixed(0)}, worker frozen ${mean(off).toFixed(0)} -> ` +
          `${((ratios[label] as number) * 100).toFixed(0)}%; ${drained} receipts rendered meanwhile` +
          (drained === 0 ? ' (NOT VALID: the worker rendered nothing; the machine is too loaded)' : ''),
      );
    }
    const pct = (label: string) => `${((ratios[label] ?? Number.NaN) * 100).toFixed(0)}%`;
    log(
      `ratios: no cap ${pct('no cap')} (target >= 50%), cap at half the pipeline ${pct(`cap ${cap}/s`)} ` +
        `(target >= 70%)` +
        (split
          ? `; split cores: no cap ${pct('split cores, no cap')}, cap ${pct(`split cores, cap ${cap}/s`)} (target >= 95%)`
          : ''),
    );
  } finally {
    await admin.end();
    await rm(script, { force: true });
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
