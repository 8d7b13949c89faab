// A scratch embedded PostgreSQL with a migrated ledger whose entries table holds about `entries` rows, made
// the way production makes them: wallet.transfer_batch calls of 10,000 items from wallet 1 to the others, so
// wallet 1's chain alone is half of all entries and every receiver's chain is long too.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { findFreePort } from '../../src/net/free-port.js';

export const RECEIVERS = 1000;
const ITEMS = 10_000;

export interface Scratch {
  url: string;
  stop(): Promise<void>;
}

export async function populatedLedger(entries: number, log = console.log): Promise<Scratch> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wallet-bench-books-'));
  const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port: await findFreePort() });
  const stop = async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await migrate(server.url);
    const db = new pg.Client(server.url);
    await db.connect();
    await db.query(
      `SELECT wallet.create_user('books' || g, NULL) FROM generate_series(1, ${RECEIVERS + 1}) g`,
    );
    await db.query('SELECT * FROM wallet.deposit(1, 1000000000000)');
    const batches = Math.max(1, Math.round(entries / (2 * ITEMS)));
    const started = Date.now();
    for (let b = 0; b < batches; b++) {
      await db.query(
        `SELECT count(*) FROM wallet.transfer_batch(1,
           ARRAY(SELECT 2 + (g % ${RECEIVERS})::bigint FROM generate_series(1, ${ITEMS}) g),
           array_fill(0.01::numeric, ARRAY[${ITEMS}]))`,
      );
      if ((b + 1) % 10 === 0)
        log(`  ${b + 1}/${batches} batches (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
    await db.query('VACUUM ANALYZE');
    const n = (await db.query('SELECT count(*)::bigint AS n FROM wallet.entries')).rows[0].n;
    log(`ledger ready: ${n} entries, ${RECEIVERS + 1} wallets`);
    await db.end();
    return { url: server.url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
