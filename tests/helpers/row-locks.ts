// Forcing an overlap instead of hoping for one: a test holds a wallet's row lock, starts n competing calls,
// waits until the database shows them all waiting on a lock, and only then lets them go. Every wait is
// filtered by the current database: test files clone one template, so another file's backends share our
// relation OIDs and queries.
import type pg from 'pg';

export interface HeldRow {
  release(): Promise<void>;
}

/** Locks the wallet row of `userId` on `client` (its own connection) until release(). */
export async function holdWalletRow(client: pg.Client, userId: number): Promise<HeldRow> {
  await client.query('BEGIN');
  await client.query('SELECT 1 FROM wallet.wallets WHERE user_id = $1 FOR UPDATE', [userId]);
  return {
    release: async () => {
      await client.query('COMMIT');
    },
  };
}

/** Backends of this database whose query is LIKE `queryLike` and that wait for a lock right now. */
export async function lockWaiters(admin: pg.Pool, queryLike: string): Promise<number> {
  const { rows } = await admin.query(
    `SELECT count(DISTINCT a.pid)::int AS n
       FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted
      WHERE a.datname = current_database() AND a.query LIKE $1`,
    [queryLike],
  );
  return rows[0].n;
}

/** Waits until exactly `n` matching backends wait on a lock; fails after `timeoutMs`. */
export async function waitForLockWaiters(
  admin: pg.Pool,
  n: number,
  queryLike = '%wallet.transfer(%',
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await lockWaiters(admin, queryLike);
    if (seen === n) return;
    if (Date.now() > deadline) throw new Error(`${seen} backends wait on a lock, expected ${n}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Polls `check` every 10 ms until it is true; fails after `timeoutMs` with `what`. */
export async function waitUntil(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Runs `sample` back to back until `work` settles, and returns every value seen: what a reader saw while a
 * race ran, not only once it was over.
 */
export async function sampleWhile<T, S>(
  work: Promise<T>,
  sample: () => Promise<S>,
): Promise<{ result: T; samples: S[] }> {
  let done = false;
  const settled = work.finally(() => {
    done = true;
  });
  const samples: S[] = [];
  while (!done) samples.push(await sample());
  return { result: await settled, samples };
}
