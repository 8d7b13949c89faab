// pgbench as the benchmarks run it: against one database URL, for a fixed time, returning the TPS it reports
// (without the initial connection time). A run with failed transactions is an error, not a figure.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PgbenchRun {
  clients: number;
  seconds: number;
  /** pgbench arguments besides connection, clients and duration (a script, -M prepared, ...). */
  args: string[];
  /** PGOPTIONS for the sessions, e.g. '-c role=wallet_app'. */
  pgoptions?: string;
  /** Run pgbench on these CPUs only (a taskset list). */
  cpus?: string;
}

export async function pgbench(databaseUrl: string, opts: PgbenchRun): Promise<number> {
  const url = new URL(databaseUrl);
  const connection = ['-h', url.hostname, '-p', url.port, '-U', decodeURIComponent(url.username)];
  const args = [
    ...connection,
    '-c',
    String(opts.clients),
    '-j',
    String(Math.min(2, opts.clients)),
    '-T',
    String(opts.seconds),
    '-n',
    ...opts.args,
    url.pathname.slice(1),
  ];
  const [command, commandArgs] = opts.cpus
    ? ['taskset', ['-c', opts.cpus, 'pgbench', ...args]]
    : ['pgbench', args];
  const { stdout } = await run(command, commandArgs, {
    env: { ...process.env, PGPASSWORD: decodeURIComponent(url.password), PGOPTIONS: opts.pgoptions ?? '' },
    maxBuffer: 1 << 24,
  });
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1];
  const failed = /number of failed transactions: (\d+)/.exec(stdout)?.[1];
  if (!tps) throw new Error(`could not read pgbench output:\n${stdout}`);
  if (failed && failed !== '0')
    throw new Error(`pgbench ${opts.args.join(' ')}: ${failed} failed transactions`);
  return Number(tps);
}

/** pgbench -i: its own tables (for the tpcb-like baseline) at the given scale. */
export async function pgbenchInit(databaseUrl: string, scale: number): Promise<void> {
  const url = new URL(databaseUrl);
  await run(
    'pgbench',
    [
      '-i',
      '-q',
      '-s',
      String(scale),
      '-h',
      url.hostname,
      '-p',
      url.port,
      '-U',
      url.username,
      url.pathname.slice(1),
    ],
    { env: { ...process.env, PGPASSWORD: decodeURIComponent(url.password) } },
  );
}
