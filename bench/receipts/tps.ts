// Transfer throughput beside the receipt pipeline: pgbench, 4 clients, wallet.transfer as the API calls it,
// in a second database on the same PostgreSQL server. A second database, because the question is what the
// worker's load (its node process, Chromium, Temporal, its queries and PDF writes) costs the ledger, while
// each of these transfers would otherwise add a receipt that the run then has to wait for: 5 s of
// transfers are ~20,000 receipts, about a quarter of an hour of rendering on 2 cores. The worker is kept
// busy by a backlog in the first database instead.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pgbench } from '../pgbench.js';
import { uniformTransfer } from '../sql/scripts.js';

export const TPS_CLIENTS = 4;
const WALLETS = 1_000;
const AS_THE_API = '-c role=wallet_app';

/** Funds WALLETS users in the (migrated, empty) database and writes the pgbench script; returns its path. */
export async function prepareTransfers(url: string): Promise<string> {
  const db = new pg.Client(url);
  await db.connect();
  await db.query(`SELECT wallet.create_user('tps_' || g, NULL) FROM generate_series(1, ${WALLETS}) g`);
  await db.query(`SELECT wallet.deposit(g, 1000000) FROM generate_series(1, ${WALLETS}) g`);
  await db.query('VACUUM ANALYZE');
  await db.end();
  const script = path.join(os.tmpdir(), `wallet-bench-tps-${process.pid}.sql`);
  await writeFile(script, uniformTransfer(WALLETS));
  return script;
}

/** TPS of `seconds` of transfers; with cpus, pgbench itself runs on those CPUs only. */
export function transferTps(url: string, script: string, seconds: number, cpus?: string): Promise<number> {
  return pgbench(url, {
    cpus,
    clients: TPS_CLIENTS,
    seconds,
    args: ['-M', 'prepared', '-f', script],
    pgoptions: AS_THE_API,
  });
}

/** Pins every thread of these processes to the CPUs (a taskset list such as "0" or "1-3"); children they
 *  start later inherit it (PostgreSQL's new backends, Chromium's new renderers). */
export function pinProcesses(pids: number[], cpus: string): void {
  for (const pid of pids) {
    try {
      execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
    } catch {
      // the process has gone meanwhile
    }
  }
}

/** The first child process of `parent` whose command name is `name`. */
export function childNamed(parent: number, name: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && comm === name) return Number(entry);
    } catch {
      // gone
    }
  }
  return undefined;
}
