// bench/sql for holds (issue 12): a hot sender with 10 open holds, and the server's CPU time, so that the cost
// of a transfer can be read per call rather than from a throughput that others' load on the machine moves.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { WALLETS } from './scripts.js';

export const HELD_SENDER = 2;

/** Ten open holds (a month long, far less than its funds) on the hot sender of the holds scenario. */
export async function holdTenOn(databaseUrl: string): Promise<void> {
  const db = new pg.Client(databaseUrl);
  await db.connect();
  await db.query("SELECT wallet.hold($1, 100 + g, 1000.00, '30 days') FROM generate_series(1, 10) g", [
    HELD_SENDER,
  ]);
  await db.end();
}

export const HELD_SENDER_TRANSFER = `
\\set b random(3, ${WALLETS})
SELECT * FROM wallet.transfer(${HELD_SENDER}, :b, 0.01);
`;

const ticks = (stat: string, fields: number[]) => {
  const after = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // field 3 onwards
  return fields.reduce((sum, f) => sum + Number(after[f - 3]), 0);
};

/** CPU milliseconds PostgreSQL has used: the postmaster, its exited children (cutime, cstime) and live ones. */
export async function serverCpuMs(dataDir: string): Promise<number> {
  // A child that exits between the two reads below would be missed or counted twice: let the backends of
  // the run that just ended exit and be reaped first.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const postmaster = (await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0] as string;
  let total = ticks(await readFile(`/proc/${postmaster}/stat`, 'utf8'), [14, 15, 16, 17]);
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (stat && ticks(stat, [4]) === Number(postmaster)) total += ticks(stat, [14, 15]);
  }
  return (total * 1000) / 100; // USER_HZ is 100 on Linux
}
