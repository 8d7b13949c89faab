// What the receipt benchmark runs against: a fresh migrated database (on DATABASE_URL's server, else an
// embedded PostgreSQL in a temp folder) and a Temporal dev server on a free port. No vitest here.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../src/net/free-port.js';
import { resolveTemporalCli } from '../../src/temporal/cli-path.js';
import { type DevServer, startTemporalDevServer } from '../../src/temporal/dev-server.js';
import { startTemporalOnPostgres } from '../../src/temporal/postgres-server.js';
import { type ScratchDatabase, scratchDatabase } from '../scratch-database.js';

export type BenchDatabase = ScratchDatabase;

export function benchDatabase(): Promise<BenchDatabase> {
  return scratchDatabase('receipts');
}

/** The Temporal server under test and every pid whose CPU counts as Temporal's (its own PostgreSQL too). */
export interface BenchTemporal extends DevServer {
  backend: 'dev' | 'postgres';
  cpuPids(): number[];
}

/**
 * BENCH_TEMPORAL=postgres: the production shape (the real server on a PostgreSQL of its own, built into
 * .tools/ on first use); otherwise the dev server, in memory or on BENCH_TEMPORAL_DB_FILE as `npm run dev`
 * runs it. `nice` applies to the dev server only.
 */
export async function benchTemporal(nice: number): Promise<BenchTemporal> {
  if (process.env.BENCH_TEMPORAL === 'postgres') {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-temporal-'));
    const server = await startTemporalOnPostgres({ dir });
    return {
      ...server,
      backend: 'postgres',
      cpuPids: () => [server.process.pid ?? 0, server.postgres.pid ?? 0].filter((p) => p > 0),
      stop: async () => {
        await server.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  const server = await startTemporalDevServer({
    cliPath: resolveTemporalCli(),
    port: await findFreePort(),
    nice,
    dbFile: process.env.BENCH_TEMPORAL_DB_FILE,
  });
  return { ...server, backend: 'dev', cpuPids: () => [server.process.pid ?? 0] };
}
