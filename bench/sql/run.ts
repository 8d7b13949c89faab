// bench/sql: pgbench against a migrated database with 10,000 funded wallets, fsync and synchronous_commit on,
// 8 clients. Every scenario is a ratio to a yardstick measured in the same run: the minimal PL/pgSQL transfer
// of minimal.sql (uniform or hot). Scenarios alternate in rounds so that machine noise hits them all alike;
// medians are reported, with the server's CPU per call (the backends' user+system time, from the postmaster's
// reaped-children counters, so it does not depend on what else the machine runs).
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { findFreePort } from '../../src/net/free-port.js';
import { pgbench, pgbenchInit } from '../pgbench.js';
import { HELD_SENDER_TRANSFER, holdTenOn } from './holds.js';
import { BATCH_ITEMS, HOT_SENDER_BATCH, hotSenderTransfer, uniformTransfer, WALLETS } from './scripts.js';

const CLIENTS = 8;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

interface Scenario {
  name: string;
  script?: string; // a custom script's text, else args hold the built-in
  args: string[];
  db: string; // which database of the run
  pgoptions?: string;
  per: number; // transfers per pgbench transaction
  baseline: string; // the scenario this one is a ratio to
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const MINIMAL = 'minimal function, uniform';
const MINIMAL_HOT = 'minimal function, one hot sender';
const HOT = 'wallet.transfer, one hot sender, as the API';
const CHAINED_API = 'wallet.transfer, uniform, as the API';
const CHAINED_PSQL = 'wallet.transfer, uniform, as psql';
const UNCHAINED_API = 'wallet.transfer without chains, uniform, as the API';
const UNCHAINED_PSQL = 'wallet.transfer without chains, uniform, as psql';
// The API: the wallet_app role and a named prepared statement per connection (src/db/ledger.ts), which is
// pgbench's -M prepared. A DBA in psql: superuser, simple query protocol, no session settings.
// As src/server.ts connects: the API's role, and its receipt rows born leased to it (migration 0004).
const API = '-c role=wallet_app -c wallet.caller_starts_receipts=on';
const scenarios: Scenario[] = [
  {
    name: MINIMAL,
    script: uniformTransfer(WALLETS, 'bench.transfer'),
    args: ['-M', 'prepared'],
    db: 'w',
    per: 1,
    baseline: MINIMAL,
  },
  {
    name: MINIMAL_HOT,
    script: hotSenderTransfer('bench.transfer'),
    args: ['-M', 'prepared'],
    db: 'w',
    per: 1,
    baseline: MINIMAL_HOT,
  },
  {
    name: 'minimal function, uniform, simple protocol',
    script: uniformTransfer(WALLETS, 'bench.transfer'),
    args: [],
    db: 'w',
    per: 1,
    baseline: MINIMAL,
  },
  {
    name: 'tpcb-like, scale 1 (pgbench built-in)',
    args: ['-b', 'tpcb-like'],
    db: 'tpcb1',
    per: 1,
    baseline: MINIMAL,
  },
  {
    name: 'tpcb-like, scale 10 (pgbench built-in)',
    args: ['-b', 'tpcb-like'],
    db: 'tpcb10',
    per: 1,
    baseline: MINIMAL,
  },
  {
    name: CHAINED_API,
    script: uniformTransfer(WALLETS),
    args: ['-M', 'prepared'],
    db: 'w',
    pgoptions: API,
    per: 1,
    baseline: MINIMAL,
  },
  // Issue 18: the same run with and without the hash chains. bench/sql/unchained.sql is the pre-books
  // wallet.transfer under another name; the chained one is the two scenarios around these.
  {
    name: UNCHAINED_API,
    script: uniformTransfer(WALLETS, 'bench.transfer_unchained'),
    args: ['-M', 'prepared'],
    db: 'w',
    pgoptions: API,
    per: 1,
    baseline: MINIMAL,
  },
  {
    name: UNCHAINED_PSQL,
    script: uniformTransfer(WALLETS, 'bench.transfer_unchained'),
    args: [],
    db: 'w',
    per: 1,
    baseline: MINIMAL,
  },
  {
    name: CHAINED_PSQL,
    script: uniformTransfer(WALLETS),
    args: [],
    db: 'w',
    per: 1,
    baseline: MINIMAL,
  },
  {
    name: HOT,
    script: hotSenderTransfer('wallet.transfer'),
    args: ['-M', 'prepared'],
    db: 'w',
    pgoptions: API,
    per: 1,
    baseline: MINIMAL_HOT,
  },
  {
    // Issue 12: open holds on the sender cost a transfer nothing it would notice (held is on the locked row).
    name: 'wallet.transfer, hot sender with 10 open holds, as the API',
    script: HELD_SENDER_TRANSFER,
    args: ['-M', 'prepared'],
    db: 'w',
    pgoptions: API,
    per: 1,
    baseline: MINIMAL_HOT,
  },
  {
    name: `wallet.transfer_batch of ${BATCH_ITEMS}, hot sender, as the API`,
    script: HOT_SENDER_BATCH,
    args: ['-M', 'prepared'],
    db: 'w',
    pgoptions: API,
    per: BATCH_ITEMS,
    baseline: HOT,
  },
];

const dir = await mkdtemp(path.join(os.tmpdir(), 'wallet-bench-sql-'));
const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port: await findFreePort() });
const urlOf = (name: string) => Object.assign(new URL(server.url), { pathname: `/${name}` }).toString();
try {
  const admin = new pg.Client(server.url);
  await admin.connect();
  for (const name of ['bench', 'tpcb1', 'tpcb10']) await admin.query(`CREATE DATABASE ${name}`);
  const backend = (await admin.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  const postmaster = Number((await readFile(`/proc/${backend}/stat`, 'utf8')).split(') ')[1]?.split(' ')[1]);
  await admin.end();
  // Backends are the postmaster's children: their CPU lands in its cutime + cstime when they exit (fields 16
  // and 17 of /proc/PID/stat; the split below starts at field 3, so indexes 13 and 14).
  const reapedCpuMs = async () => {
    const fields = (await readFile(`/proc/${postmaster}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS;
  };
  // pgbench returns before its backends have exited; their CPU must land in this scenario's count.
  const children = async () =>
    (await readFile(`/proc/${postmaster}/task/${postmaster}/children`, 'utf8')).trim().split(/\s+/).length;
  let idleChildren = 0;
  const backendsGone = async () => {
    for (let i = 0; i < 250 && (await children()) > idleChildren; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const dbs: Record<string, string> = { w: urlOf('bench'), tpcb1: urlOf('tpcb1'), tpcb10: urlOf('tpcb10') };
  await migrate(dbs.w as string);
  const db = new pg.Client(dbs.w);
  await db.connect();
  await db.query(await readFile(new URL('./setup.sql', import.meta.url), 'utf8'));
  await db.query(await readFile(new URL('./minimal.sql', import.meta.url), 'utf8'));
  await db.query(await readFile(new URL('./unchained.sql', import.meta.url), 'utf8'));
  const hasBatch = (await db.query("SELECT to_regproc('wallet.transfer_batch') IS NOT NULL AS b")).rows[0].b;
  await holdTenOn(dbs.w as string);
  await db.query('VACUUM ANALYZE');
  const settings = await db.query(
    "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit')",
  );
  await db.end();
  await pgbenchInit(dbs.tpcb1 as string, 1);
  await pgbenchInit(dbs.tpcb10 as string, 10);
  const runnable = scenarios.filter((s) => hasBatch || !s.name.includes('transfer_batch'));
  const rates = new Map<string, number[]>(runnable.map((s) => [s.name, []]));
  const cpu = new Map<string, number[]>(runnable.map((s) => [s.name, []]));
  idleChildren = await children();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const s of runnable) {
      const args = [...s.args];
      if (s.script) {
        const file = path.join(dir, `${s.name.replace(/\W+/g, '_')}.sql`);
        await writeFile(file, s.script);
        args.push('-f', file);
      }
      const cpuBefore = await reapedCpuMs();
      const tps = await pgbench(dbs[s.db] as string, {
        clients: CLIENTS,
        seconds: SECONDS,
        args,
        pgoptions: s.pgoptions,
      });
      const transfers = tps * s.per;
      rates.get(s.name)?.push(transfers);
      await backendsGone();
      cpu.get(s.name)?.push(((await reapedCpuMs()) - cpuBefore) / (transfers * SECONDS));
      console.log(`round ${round}: ${s.name}: ${transfers.toFixed(0)} transfers/s`);
    }
  }
  console.log(
    `\n${os.availableParallelism()} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${CLIENTS} clients, ` +
      `${SECONDS} s x ${ROUNDS} rounds, ${settings.rows.map((r) => `${r.name}=${r.setting}`).join(' ')}`,
  );
  console.log(`${'scenario'.padEnd(52)} ${'per s'.padStart(7)} ${'ms CPU'.padStart(7)}  ratio`);
  for (const s of runnable) {
    const rate = median(rates.get(s.name) ?? []);
    const ratio = rate / median(rates.get(s.baseline) ?? []);
    const ms = median(cpu.get(s.name) ?? []);
    const of = s.baseline === s.name ? '(yardstick)' : `x ${s.baseline}`;
    console.log(
      `${s.name.padEnd(52)} ${rate.toFixed(0).padStart(7)} ${ms.toFixed(3).padStart(7)}  ${ratio.toFixed(2)} ${of}`,
    );
  }
  // The chains' cost, each path against its own unchained twin of the same run (issue 18: >= 0.95x).
  for (const [chained, unchained] of [
    [CHAINED_API, UNCHAINED_API],
    [CHAINED_PSQL, UNCHAINED_PSQL],
  ] as const) {
    const ratio = median(rates.get(chained) ?? []) / median(rates.get(unchained) ?? []);
    console.log(
      `with chains / without, ${chained.replace('wallet.transfer, uniform, ', '')}: ${ratio.toFixed(2)}x`,
    );
  }
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
