// `npm run db:snapshot`: migrates a scratch database and rewrites db/schema.snapshot from it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { readSchemaSnapshot, SNAPSHOT_FILE } from '../src/db/schema-snapshot.js';
import { findFreePort } from '../src/net/free-port.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'wallet-snapshot-'));
const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port: await findFreePort() });
try {
  await migrate(server.url);
  const pool = new pg.Pool({ connectionString: server.url, max: 1 });
  await writeFile(SNAPSHOT_FILE, await readSchemaSnapshot(pool));
  await pool.end();
  console.log(`wrote ${path.relative(process.cwd(), SNAPSHOT_FILE)}`);
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
