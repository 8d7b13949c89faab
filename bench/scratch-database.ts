// A fresh migrated database for a benchmark: on DATABASE_URL's server if set, else on an embedded PostgreSQL
// in a temporary folder. stop() drops it (and stops the embedded server).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { findFreePort } from '../src/net/free-port.js';

export interface ScratchDatabase {
  /** Superuser URL of the fresh database. */
  url: string;
  embedded: boolean;
  /** Another fresh migrated database on the same server (dropped by stop()); returns its superuser URL. */
  sibling(label: string): Promise<string>;
  stop(): Promise<void>;
}

export async function scratchDatabase(label: string): Promise<ScratchDatabase> {
  const name = `wallet_bench_${label}_${randomBytes(4).toString('hex')}`;
  let adminUrl = process.env.DATABASE_URL;
  let stopServer: () => Promise<void> = async () => undefined;
  let dir: string | undefined;
  if (!adminUrl) {
    dir = await mkdtemp(path.join(os.tmpdir(), `wallet-bench-${label}-`));
    const server = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'data'),
      port: await findFreePort(),
    });
    adminUrl = server.url;
    stopServer = server.stop;
  }
  const serverUrl = adminUrl;
  const names: string[] = [];
  const create = async (dbName: string) => {
    const admin = new pg.Client(serverUrl);
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    names.push(dbName);
    const url = new URL(serverUrl);
    url.pathname = `/${dbName}`;
    await migrate(url.toString());
    return url.toString();
  };
  const url = await create(name);
  return {
    url,
    embedded: dir !== undefined,
    sibling: (siblingLabel) => create(`${name}_${siblingLabel}`),
    async stop() {
      const drop = new pg.Client(serverUrl);
      await drop.connect();
      for (const dbName of names) await drop.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await drop.end();
      await stopServer();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
