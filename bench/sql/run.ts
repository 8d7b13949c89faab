// bench/sql: pgbench against a migrated database with 10,000 funded wallets, fsync and synchronous_commit on,
// 8 clients. Scenarios alternate in rounds so that machine noise hits them all alike; medians are reported.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { findFreePort } from '../../src/net/free-port.js';
import { pgbench, pgbenchInit } from '../pgbench.js';
import { HELD_SENDER_TRANSFER, holdTenOn, serverCpuMs } from './holds.js';
import { HOT_SENDER_TRANSFER, uniformTransfer, WALLETS } from './scripts.js';

const CLIENTS = 8;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// pgbench's default scale (1): the usual baseline, and what the reference ratios were measured with.
// At scale 1 every tpcb-like transaction updates the one branch row, so it is lock-bound like our hot sender;
// BENCH_TPCB_SCALE=10 gives it a row per client (measured: 3330 TPS, transfer 1.60x of it).
const TPCB_SCALE = Number(process.env.BENCH_TPCB_SCALE ?? 1);

interface Scenario {
  name: string;
  args: string[]; // pgbench arguments besides connection and duration
  pgoptions?: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const dir = await mkdtemp(path.join(os.tmpdir(), 'wallet-bench-sql-'));
const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port: await findFreePort() });
try {
  const url = new URL(server.url);
  const admin = new pg.Client(server.url);
  await admin.connect();
  await admin.query('CREATE DATABASE bench');
  await admin.end();
  url.pathname = '/bench';
  await migrate(url.toString());
  const db = new pg.Client(url.toString());
  await db.connect();
  await db.query(await readFile(new URL('./setup.sql', import.meta.url), 'utf8'));
  await db.query('VACUUM ANALYZE');
  const settings = await db.query(
    "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit')",
  );
  await db.end();
  await pgbenchInit(url.toString(), TPCB_SCALE);
  const uniform = path.join(dir, 'uniform.sql');
  const hot = path.join(dir, 'hot.sql');
  await writeFile(uniform, uniformTransfer(WALLETS));
  await writeFile(hot, HOT_SENDER_TRANSFER);
  const held = path.join(dir, 'held.sql');
  await writeFile(held, HELD_SENDER_TRANSFER);
  await holdTenOn(url.toString());

  // As the API calls it: the wallet_app role, no NOTIFY (the API starts the workflow itself), and a named
  // prepared statement per connection (src/db/ledger.ts), which is pgbench's -M prepared. As psql: the
  // simple query protocol (parse and plan every call) and the NOTIFY.
  const api = '-c role=wallet_app -c wallet.caller_starts_receipts=on';
  const scenarios: Scenario[] = [
    { name: 'tpcb-like (pgbench built-in)', args: ['-b', 'tpcb-like'] },
    { name: 'wallet.transfer, uniform, as the API', args: ['-M', 'prepared', '-f', uniform], pgoptions: api },
    { name: 'wallet.transfer, uniform, API unprepared', args: ['-f', uniform], pgoptions: api },
    { name: 'wallet.transfer, uniform, as psql (NOTIFY)', args: ['-f', uniform] },
    {
      name: 'wallet.transfer, one hot sender, as the API',
      args: ['-M', 'prepared', '-f', hot],
      pgoptions: api,
    },
    {
      name: 'wallet.transfer, hot sender with 10 open holds',
      args: ['-M', 'prepared', '-f', held],
      pgoptions: api,
    },
  ];
  const cpuMs = new Map<string, number[]>(scenarios.map((s) => [s.name, []]));
  const results = new Map<string, number[]>(scenarios.map((s) => [s.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const scenario of scenarios) {
      const cpuBefore = await serverCpuMs(path.join(dir, 'data'));
      const tps = await pgbench(url.toString(), {
        clients: CLIENTS,
        seconds: SECONDS,
        args: scenario.args,
        pgoptions: scenario.pgoptions,
      });
      results.get(scenario.name)?.push(tps);
      const cpu = (await serverCpuMs(path.join(dir, 'data'))) - cpuBefore;
      cpuMs.get(scenario.name)?.push(cpu / (tps * SECONDS));
      console.log(`round ${round}: ${scenario.name}: ${tps.toFixed(0)} TPS`);
    }
  }
  const base = median(results.get(scenarios[0]?.name ?? '') ?? []);
  console.log(
    `\n${os.availableParallelism()} cores, ${CLIENTS} clients, ${SECONDS} s x ${ROUNDS} rounds, tpcb scale ${TPCB_SCALE}, ` +
      settings.rows.map((r) => `${r.name}=${r.setting}`).join(' '),
  );
  for (const [name, values] of results) {
    const tps = median(values);
    console.log(
      `${name.padEnd(48)} ${tps.toFixed(0).padStart(6)} TPS  ${(tps / base).toFixed(2)}x tpcb-like  ` +
        `${median(cpuMs.get(name) ?? []).toFixed(3)} server CPU ms/transaction`,
    );
  }
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
