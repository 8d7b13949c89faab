// What the receipt benchmark runs against: a fresh migrated database (on DATABASE_URL's server, else an
// embedded PostgreSQL in a temp folder) and a Temporal dev server on a free port. No vitest here.
import { findFreePort } from '../../src/net/free-port.js';
import { resolveTemporalCli } from '../../src/temporal/cli-path.js';
import { type DevServer, startTemporalDevServer } from '../../src/temporal/dev-server.js';
import { type ScratchDatabase, scratchDatabase } from '../scratch-database.js';

export type BenchDatabase = ScratchDatabase;

export function benchDatabase(): Promise<BenchDatabase> {
  return scratchDatabase('receipts');
}

export async function benchTemporal(nice: number): Promise<DevServer> {
  return startTemporalDevServer({ cliPath: resolveTemporalCli(), port: await findFreePort(), nice });
}
