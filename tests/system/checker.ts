// The bank checker: after the workload, the books must hold exactly what the clients were told.
import { Decimal } from 'decimal.js';
import type pg from 'pg';
import { connectTemporalClient } from '../../src/temporal/client.js';
import { checkReceiptStorage, checkReceiptWorkflows } from './receipt-checks.js';
import type { TransferRecord, WorkloadResult } from './workload.js';

export interface CheckReport {
  problems: string[];
  committed: number;
  rejected: number;
}

/** The highest transaction id so far: a run's checker looks only at transactions after it. */
export async function lastTransactionId(db: pg.Pool): Promise<number> {
  return (await db.query('SELECT coalesce(max(id), 0)::int AS id FROM wallet.transactions')).rows[0].id;
}

/**
 * Each wallet's balance as the clients know it: its funding plus or minus every transfer answered 201,
 * computed without the database (audit() is the database's own opinion of itself).
 */
export function expectedBalances(userIds: number[], funding: string, transfers: TransferRecord[]) {
  const balances = new Map(userIds.map((id) => [id, new Decimal(funding)]));
  for (const t of transfers.filter((x) => x.status === 201)) {
    balances.set(t.from, (balances.get(t.from) ?? new Decimal(0)).minus(t.amount));
    balances.set(t.to, (balances.get(t.to) ?? new Decimal(0)).plus(t.amount));
  }
  return balances;
}

async function balanceProblems(db: pg.Pool, expected: Map<number, Decimal>): Promise<string[]> {
  const { rows } = await db.query<{ user_id: number; balance: string }>(
    'SELECT user_id, balance::text FROM wallet.wallets WHERE user_id = ANY($1)',
    [[...expected.keys()]],
  );
  const actual = new Map(rows.map((r) => [r.user_id, r.balance]));
  return [...expected]
    .filter(([id, balance]) => actual.get(id) !== balance.toFixed(2))
    .map(([id, balance]) => `wallet ${id} holds ${actual.get(id)}, the 201s say ${balance.toFixed(2)}`);
}

export async function checkBooks(
  db: pg.Pool,
  result: WorkloadResult,
  expected: Map<number, Decimal>,
  afterTransactionId: number,
): Promise<CheckReport> {
  const userIds = [...expected.keys()];
  const expectedTotal = Decimal.sum(...expected.values()).toFixed(2);
  const problems: string[] = [
    ...result.unexpected,
    ...result.negativeSeen.map((n) => `negative balance seen: ${n}`),
  ];
  const totals = (
    await db.query(
      'SELECT coalesce(sum(balance), 0)::text AS total, min(balance)::text AS lowest FROM wallet.wallets WHERE user_id = ANY($1)',
      [userIds],
    )
  ).rows[0];
  if (!new Decimal(totals.total).eq(expectedTotal))
    problems.push(`money total ${totals.total}, expected ${expectedTotal}`);
  if (new Decimal(totals.lowest).isNegative()) problems.push(`a wallet holds ${totals.lowest}`);
  problems.push(...(await balanceProblems(db, expected)));
  for (const row of (await db.query('SELECT * FROM wallet.audit()')).rows)
    problems.push(`audit: ${row.detail}`);

  // Every 201 is exactly one transfer row with the same parties and amount, and every row is some 201.
  const rows = (
    await db.query(
      `SELECT id, sender_id, receiver_id, amount::text, idempotency_key FROM wallet.transactions
        WHERE kind = 'transfer' AND sender_id = ANY($1) AND id > $2`,
      [userIds, afterTransactionId],
    )
  ).rows as { id: number; sender_id: number; receiver_id: number; amount: string; idempotency_key: string }[];
  const byKey = new Map<string, typeof rows>();
  for (const row of rows) byKey.set(row.idempotency_key, [...(byKey.get(row.idempotency_key) ?? []), row]);
  const committed: TransferRecord[] = [];
  for (const t of result.transfers) {
    const found = byKey.get(t.key) ?? [];
    if (t.status === 201) {
      committed.push(t);
      const match = found.length === 1 && found[0];
      if (
        !match ||
        match.id !== t.transactionId ||
        match.sender_id !== t.from ||
        match.receiver_id !== t.to ||
        match.amount !== t.amount
      ) {
        problems.push(
          `201 for ${t.key} (tx ${t.transactionId}) matches ${found.length} rows: ${JSON.stringify(found)}`,
        );
      }
    } else if (found.length !== 0) {
      problems.push(`${t.key} answered ${t.status} ${t.code} but moved money: ${JSON.stringify(found)}`);
    }
  }
  const known = new Set(result.transfers.map((t) => t.key));
  for (const row of rows)
    if (!known.has(row.idempotency_key)) problems.push(`transaction ${row.id} was made by no request`);
  return { problems, committed: committed.length, rejected: result.transfers.length - committed.length };
}

/** Waits until no receipt is pending; returns the seconds it took, or undefined on timeout. */
export async function waitForReceipts(db: pg.Pool, timeoutMs: number): Promise<number | undefined> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    try {
      const { rows } = await db.query(
        "SELECT count(*)::int AS n FROM wallet.receipts WHERE status = 'pending'",
      );
      if (rows[0].n === 0) return (Date.now() - started) / 1000;
    } catch {
      // the database may be restarting
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

export interface RunCheck {
  report: CheckReport;
  /** Seconds until no receipt was pending, or undefined if the backlog did not drain in time. */
  drain: number | undefined;
  receiptProblems: string[];
}

/**
 * After a workload: the books, then the receipts once they drain. `earlier` holds every transfer of the
 * file's earlier workloads on the same users (all funded with `funding`), so balances add up from the start;
 * this run's transfers are appended to it.
 */
export async function checkRun(
  db: pg.Pool,
  temporalAddress: string,
  result: WorkloadResult,
  run: { users: { id: number }[]; funding: string; earlier: TransferRecord[] },
  afterTransactionId: number,
): Promise<RunCheck> {
  const ids = run.users.map((u) => u.id);
  const expected = expectedBalances(ids, run.funding, [...run.earlier, ...result.transfers]);
  const report = await checkBooks(db, result, expected, afterTransactionId);
  // Generous: on a 2-core machine shared with other work, a backlog of hundreds of receipts takes minutes.
  const drain = await waitForReceipts(db, 360_000);
  run.earlier.push(...result.transfers);
  const temporal = await connectTemporalClient({ address: temporalAddress, namespace: 'default' });
  try {
    const receiptProblems = [
      ...(await checkReceiptStorage(db)),
      ...(await checkReceiptWorkflows(db, temporal, afterTransactionId)),
    ];
    return { report, drain, receiptProblems };
  } finally {
    await temporal.connection.close();
  }
}
