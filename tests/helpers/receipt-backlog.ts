// A receipt backlog made in seconds, as a superuser, with generate_series (no transfer functions, no
// workflows): deposits to one wallet, each with a pending receipt, in the shapes the dispatcher meets after a
// long Temporal outage. For the dispatcher's query plans (tests/db/dispatcher-plans.test.ts) and timings
// (bench/receipts/dispatcher-queries.ts). Free of vitest imports. Never on a database that matters: the
// balances it leaves do not add up.
import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.Client, 'query'>;

export interface BacklogShape {
  /** Pending receipts nobody has started. */
  unstarted: number;
  /** Of those, how many carry a lapsed API lease (claimed an hour ago: an API whose start failed). */
  lapsedLeases?: number;
  /** Pending receipts whose workflow started a moment ago: the window's in-flight ones. */
  inFlight?: number;
  /** Rendered receipts: history, outside every partial index. */
  rendered?: number;
}

/** Adds the backlog to `db` (a migrated scratch or test database) and analyzes the receipts. */
export async function fillReceiptBacklog(db: Queryable, shape: BacklogShape): Promise<void> {
  const { rows } = await db.query("SELECT wallet.create_user('backlog_' || md5(random()::text), NULL) AS id");
  const wallet = rows[0].id as number;
  const add = async (count: number, columns: string, values: string) => {
    if (count <= 0) return;
    await db.query(
      `WITH t AS (
         INSERT INTO wallet.transactions (kind, receiver_id, amount, receiver_balance_after)
         SELECT 'deposit', $1, 1.00, g FROM generate_series(1, $2::integer) g RETURNING id
       )
       INSERT INTO wallet.receipts (transaction_id${columns}) SELECT t.id${values} FROM t`,
      [wallet, count],
    );
  };
  const lapsed = shape.lapsedLeases ?? 0;
  await add(lapsed, ', claimed_at, claimed_by', ", now() - interval '1 hour', 'api'");
  await add(shape.unstarted - lapsed, '', '');
  await add(shape.inFlight ?? 0, ', workflow_started_at', ', now()');
  await add(
    shape.rendered ?? 0,
    ', status, pdf, pdf_size, pdf_sha256, rendered_at',
    ", 'rendered', '\\x25504446'::bytea, 4, 'bench', now()",
  );
  await db.query('ANALYZE wallet.receipts');
  await db.query('ANALYZE wallet.transactions');
}
