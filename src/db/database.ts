// Where the database is: DATABASE_URL when given, else the embedded PostgreSQL in the data folder.
import path from 'node:path';
import type { Config } from '../config.js';
import { embeddedServerUrl, startEmbeddedPostgres } from './embedded.js';

export const EMBEDDED_DATABASE = 'wallet';

export interface Database {
  url: string;
  embedded: boolean;
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
