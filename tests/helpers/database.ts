// A fresh database per test file, cloned from the migrated template (fast: no migrations per file).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { onFileEnd } from './file-cleanup.js';

const TEMPLATE_DB = 'wallet_test_template';

export interface TestDatabase {
  url: string;
  /** Superuser pool: for setup and for checks the application role may not make. */
  admin: pg.Pool;
  /** Pool acting as wallet_app, as the API does. */
  app: pg.Pool;
  /** Pool acting as wallet_worker, as the receipt worker does. */
  worker: pg.Pool;
  /** Opens one more dedicated client (for concurrency tests that need separate connections). */
  client(role?: string): Promise<pg.Client>;
}

export function databaseUrl(name: string): string {
  const u = new URL(inject('pgAdminUrl'));
  u.pathname = `/${name}`;
  return u.toString();
}

/** Creates the database now and drops it after the file's tests. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `wallet_test_${randomBytes(6).toString('hex')}`;
  const server = new pg.Client(inject('pgAdminUrl'));
  await server.connect();
  await server.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
  await server.end();
  const url = databaseUrl(name);
  const admin = createPool({ url, max: 5 });
  const app = createPool({ url, max: 10, role: 'wallet_app' });
  const worker = createPool({ url, max: 10, role: 'wallet_worker' });
  // An idle pooled connection that the server ends (a test that terminates backends, a restart) is an
  // 'error' event on its pool, fatal to the whole file without a listener; the next query simply reconnects.
  for (const pool of [admin, app, worker]) {
    pool.on('error', (error) => console.warn(`${name}: an idle connection failed: ${error.message}`));
  }
  const clients: pg.Client[] = [];
  onFileEnd(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    // A test may have ended a pool itself (to see what a lost connection does): end only those still open.
    await Promise.all([admin, app, worker].filter((p) => !p.ended).map((p) => p.end()));
    // Without FORCE: a connection the test itself left open keeps its database (the run's server is removed at
    // the end anyway), rather than being killed under a client with no error listener (an uncaught 57P01).
    const drop = new pg.Client(inject('pgAdminUrl'));
    await drop.connect();
    await drop.query(`DROP DATABASE IF EXISTS ${name}`).catch((error: { code?: string }) => {
      if (error.code !== '55006') throw error; // 55006: still being accessed by other users
    });
    await drop.end();
  });
  return {
    url,
    admin,
    app,
    worker,
    async client(role?: string) {
      const c = new pg.Client({ connectionString: url, options: role ? `-c role=${role}` : undefined });
      await c.connect();
      clients.push(c);
      return c;
    },
  };
}

/** Creates a user with a funded wallet; returns its id. */
export async function fundedUser(db: pg.Pool, username: string, amount = '0.00'): Promise<number> {
  const { rows } = await db.query('SELECT wallet.create_user($1, NULL) AS id', [username]);
  const id = rows[0].id as number;
  if (amount !== '0.00') await db.query('SELECT * FROM wallet.deposit($1, $2::numeric)', [id, amount]);
  return id;
}

/**
 * One query on a connection of its own, closed before this returns. For a server the test stops right after:
 * a pool's end() resolves before its sockets close, and a fast shutdown that overtakes the goodbye reaches the
 * idle connection as a 57P01 'error' that nothing handles; a client's end() waits for the socket to close.
 */
export async function queryOnce(url: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}
