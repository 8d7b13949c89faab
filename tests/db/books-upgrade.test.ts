// An existing ledger upgraded to the books: migration 0011 backfills every wallet's chain from its history
// (transaction id order), so the upgraded database verifies clean and new movements continue the chains.
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { verifyChains } from '../../src/books/verifier.js';
import { MIGRATIONS_DIR, migrate } from '../../src/db/migrate.js';
import { databaseUrl } from '../helpers/database.js';

const name = `wallet_upgrade_${randomBytes(6).toString('hex')}`;
const url = databaseUrl(name);
let db: pg.Pool | undefined;

afterAll(async () => {
  await db?.end();
  const server = new pg.Client(inject('pgAdminUrl'));
  await server.connect();
  await server.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await server.end();
});

describe('upgrading a ledger with history', () => {
  it('backfills gap-free chains that verify clean, and new movements continue them', async () => {
    const server = new pg.Client(inject('pgAdminUrl'));
    await server.connect();
    await server.query(`CREATE DATABASE ${name}`);
    await server.end();
    const before = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql') && f < '0011').length;
    await runner({
      databaseUrl: url,
      dir: MIGRATIONS_DIR,
      direction: 'up',
      count: before,
      migrationsTable: 'pgmigrations',
      migrationsSchema: 'public',
      checkOrder: true,
      singleTransaction: true,
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      },
    });
    db = new pg.Pool({ connectionString: url, max: 2 });
    expect((await db.query("SELECT to_regclass('wallet.entries') AS t")).rows[0].t).toBeNull();

    // History as the 0010 functions wrote it: deposits, transfers (some in one transaction: one now() for
    // all), a batch and a captured hold.
    const id = async (u: string) =>
      (await db?.query('SELECT wallet.create_user($1, NULL) AS id', [u]))?.rows[0].id;
    const [a, b, c] = [await id('up_a'), await id('up_b'), await id('up_c')];
    const empty = await id('up_empty');
    await db.query('SELECT * FROM wallet.deposit($1, 100)', [a]);
    await db.query('SELECT * FROM wallet.deposit($1, 50)', [b]);
    await db.query(
      `BEGIN; SELECT * FROM wallet.transfer(${a}, ${b}, 10); SELECT * FROM wallet.transfer(${b}, ${c}, 5);
       SELECT * FROM wallet.transfer(${a}, ${c}, 1.25); COMMIT;`,
    );
    await db.query('SELECT * FROM wallet.transfer_batch($1, $2::bigint[], $3::numeric[])', [
      c,
      [a, b, a],
      [1, 2, 0.5],
    ]);
    const hold = (await db.query('SELECT hold_id FROM wallet.hold($1, $2, 7)', [b, a])).rows[0].hold_id;
    await db.query('SELECT * FROM wallet.capture($1, 6)', [hold]);
    const txs = Number((await db.query('SELECT count(*) AS n FROM wallet.transactions')).rows[0].n);

    await migrate(url);
    expect((await db.query('SELECT * FROM wallet.verify()')).rows).toEqual([]);
    expect((await db.query('SELECT * FROM wallet.audit()')).rows).toEqual([]);
    expect((await verifyChains(url)).problems).toEqual([]);
    const chains = await db.query(
      `SELECT w.user_id, w.entries, w.head_hash IS NOT NULL AS has_head, count(e.entry) AS n, w.balance,
              (SELECT e2.balance_after FROM wallet.entries e2 WHERE e2.user_id = w.user_id ORDER BY e2.entry DESC LIMIT 1) AS last
         FROM wallet.wallets w LEFT JOIN wallet.entries e ON e.user_id = w.user_id
        GROUP BY w.user_id ORDER BY w.user_id`,
    );
    const byUser = Object.fromEntries(chains.rows.map((r) => [r.user_id, r]));
    expect(Number(byUser[a].entries)).toBe(6); // deposit, 2 sent, 2 batch items received, capture received
    expect(byUser[empty]).toMatchObject({ entries: 0, has_head: false, n: 0, last: null });
    for (const r of chains.rows) expect(r.last ?? '0.00', `wallet ${r.user_id}`).toBe(r.balance);
    const entries = Number((await db.query('SELECT count(*) AS n FROM wallet.entries')).rows[0].n);
    const sent = Number(
      (await db.query('SELECT count(*) AS n FROM wallet.transactions WHERE sender_id IS NOT NULL')).rows[0].n,
    );
    expect(entries).toBe(txs + sent);

    const t = (await db.query('SELECT transaction_id FROM wallet.transfer($1, $2, 1)', [a, empty])).rows[0]
      .transaction_id;
    expect(
      (await db.query('SELECT entry FROM wallet.entries WHERE transaction_id = $1 ORDER BY user_id', [t]))
        .rows,
    ).toEqual([{ entry: 7 }, { entry: 1 }]);
    expect((await db.query('SELECT * FROM wallet.verify()')).rows).toEqual([]);
  });
});
