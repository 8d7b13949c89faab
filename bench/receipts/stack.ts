// What the receipt benchmark runs against: a fresh migrated database (on DATABASE_URL's server, else an
// embedded PostgreSQL in a temp folder) and a Temporal dev server on a free port. No vitest here.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../src/net/free-port.js';
import { resolveTemporalCli } from '../../src/temporal/cli-path.js';
import { type DevServer, startTemporalDevServer } from '../../src/temporal/dev-server.js';
import { type ScratchDatabase, scratchDatabase } from '../scratch-database.js';

export type BenchDatabase = ScratchDatabase;

export function benchDatabase(): Promise<BenchDatabase> {
  return scratchDatabase('receipts');
}

/** Where the dev server keeps its state: in memory, or in a SQLite file as `npm run dev` runs it. */
export type TemporalPersistence = 'memory' | 'file';

export async function benchTemporal(
  nice: number,
  persistence: TemporalPersistence = 'memory',
): Promise<DevServer> {
  const dir =
    persistence === 'file' ? await mkdtemp(path.join(os.tmpdir(), 'wallet-bench-temporal-')) : undefined;
  const server = await startTemporalDevServer({
    cliPath: resolveTemporalCli(),
    port: await findFreePort(),
    nice,
    dbFile: dir && path.join(dir, 'temporal.db'),
  });
  if (!dir) return server;
  return {
    ...server,
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
