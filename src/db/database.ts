// Where the database is: DATABASE_URL when given, else the embedded PostgreSQL in the data folder.
import path from 'node:path';
import type { Config } from '../config.js';
import { embeddedServerUrl, startEmbeddedPostgres } from './embedded.js';

export const EMBEDDED_DATABASE = 'wallet';

export interface Database {
  url: string;
  embedded: boolean;
  /** An embedded server another process started (`npm run dev`): used, never stopped by us. */
  joined?: boolean;
  stop(): Promise<void>;
}

export async function openDatabase(config: Config, log?: (line: string) => void): Promise<Database> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: false, stop: async () => undefined };
  const server = await startEmbeddedPostgres({
    dataDir: path.join(config.dataDir, 'pgdata'),
    port: config.embeddedPgPort,
    log,
  });
  await ensureDatabase(server.url, EMBEDDED_DATABASE);
  return {
    url: embeddedServerUrl(config.embeddedPgPort, EMBEDDED_DATABASE),
    embedded: true,
    stop: server.stop,
  };
}

/**
 * openDatabase for a process that may run beside `npm run dev` (`npm start`, `npm run worker`, the CLI,
 * `npm run migrate`): without DATABASE_URL, an embedded server already answering on EMBEDDED_PG_PORT is
 * used as it is, rather than a second one failing to start on the same port.
 */
export async function openOrJoinDatabase(config: Config, log?: (line: string) => void): Promise<Database> {
  if (!config.databaseUrl) {
    const url = embeddedServerUrl(config.embeddedPgPort, EMBEDDED_DATABASE);
    if (await answers(url)) return { url, embedded: true, joined: true, stop: async () => undefined };
  }
  return openDatabase(config, log);
}

async function answers(url: string): Promise<boolean> {
  const { default: pg } = await import('pg');
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  probe.on('error', () => undefined);
  const up = await probe.connect().then(
    () => true,
    () => false,
  );
  await probe.end().catch(() => undefined);
  return up;
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client(adminUrl);
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
}
