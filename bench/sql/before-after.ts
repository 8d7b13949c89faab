// `npx tsx bench/sql/before-after.ts`: wallet.transfer before and after a change, side by side on one server
// (written for holds, named holds-ab.ts until then): a database migrated from BEFORE_REF's migrations (default
// main) and one from this tree's, the same 10,000 funded wallets, pgbench uniform transfers as the API calls
// them, in alternating rounds. Reports TPS and server CPU ms per transfer.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { MIGRATIONS_DIR } from '../../src/db/migrate.js';
import { findFreePort } from '../../src/net/free-port.js';
import { pgbench } from '../pgbench.js';
import { serverCpuMs } from './holds.js';
import { uniformTransfer, WALLETS } from './scripts.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BEFORE_REF = process.env.BEFORE_REF ?? 'main';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const dir = await mkdtemp(path.join(os.tmpdir(), 'wallet-bench-before-after-'));
const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port: await findFreePort() });
try {
  const beforeMigrations = path.join(dir, 'before-migrations');
  await mkdir(beforeMigrations);
  const { stdout } = await promisify(execFile)('git', [
    'ls-tree',
    '--name-only',
    `${BEFORE_REF}:db/migrations`,
  ]);
  for (const file of stdout.split('\n').filter(Boolean)) {
    const text = await promisify(execFile)('git', ['show', `${BEFORE_REF}:db/migrations/${file}`], {
      maxBuffer: 1 << 24,
    });
    await writeFile(path.join(beforeMigrations, file), text.stdout);
  }
  const urls: Record<string, string> = {};
  for (const [name, migrations] of [
    ['before', beforeMigrations],
    ['after', MIGRATIONS_DIR],
  ] as const) {
    const admin = new pg.Client(server.url);
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(server.url);
    url.pathname = `/${name}`;
    urls[name] = url.toString();
    await runner({
      databaseUrl: url.toString(),
      dir: migrations,
      direction: 'up',
      migrationsTable: 'pgmigrations',
      log: () => undefined,
    });
    const db = new pg.Client(url.toString());
    await db.connect();
    await db.query(await readFile(new URL('./setup.sql', import.meta.url), 'utf8'));
    await db.query('VACUUM ANALYZE');
    await db.end();
  }
  const script = path.join(dir, 'uniform.sql');
  await writeFile(script, uniformTransfer(WALLETS));
  const tps: Record<string, number[]> = { before: [], after: [] };
  const cpu: Record<string, number[]> = { before: [], after: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const name of round % 2 ? ['before', 'after'] : ['after', 'before']) {
      const start = await serverCpuMs(path.join(dir, 'data'));
      const rate = await pgbench(urls[name] as string, {
        clients: 8,
        seconds: SECONDS,
        args: ['-M', 'prepared', '-f', script],
        pgoptions: '-c role=wallet_app -c wallet.caller_starts_receipts=on',
      });
      const ms = ((await serverCpuMs(path.join(dir, 'data'))) - start) / (rate * SECONDS);
      tps[name]?.push(rate);
      cpu[name]?.push(ms);
      console.log(`round ${round}: ${name}: ${rate.toFixed(0)} TPS, ${ms.toFixed(3)} server CPU ms/transfer`);
    }
  }
  const [b, a] = [median(cpu.before ?? []), median(cpu.after ?? [])];
  const [bt, at] = [median(tps.before ?? []), median(tps.after ?? [])];
  console.log(`\nbefore (${BEFORE_REF}): ${bt.toFixed(0)} TPS, ${b.toFixed(3)} CPU ms/transfer`);
  console.log(`after (this tree):  ${at.toFixed(0)} TPS, ${a.toFixed(3)} CPU ms/transfer`);
  console.log(`after/before: TPS ${(at / bt).toFixed(3)}, CPU per transfer ${(a / b).toFixed(3)}`);
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
