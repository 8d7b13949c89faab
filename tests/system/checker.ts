// The bank checker: after the workload, the books must hold exactly what the clients were told.
import { Decimal } from 'decimal.js';
import type pg from 'pg';
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

export async function checkBooks(
  db: pg.Pool,
  result: WorkloadResult,
  expectedTotal: string,
  userIds: number[],
  afterTransactionId: number,
): Promise<CheckReport> {
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

/** Every transaction has exactly one rendered receipt with a non-empty PDF whose hash matches its bytes. */
export async function checkReceipts(db: pg.Pool): Promise<string[]> {
  const { rows } = await db.query(`
    SELECT t.id, r.status, r.pdf_size, r.pdf_sha256 = encode(sha256(r.pdf), 'hex') AS hash_ok
      FROM wallet.transactions t LEFT JOIN wallet.receipts r ON r.transaction_id = t.id
     WHERE r.status IS DISTINCT FROM 'rendered' OR r.pdf_size IS NULL OR r.pdf_size = 0
        OR r.pdf_sha256 IS DISTINCT FROM encode(sha256(r.pdf), 'hex')`);
  return rows.map(
    (r) =>
      `transaction ${r.id}: receipt ${r.status ?? 'missing'}, ${r.pdf_size ?? 0} bytes, hash ok: ${r.hash_ok}`,
  );
}

export interface RunCheck {
  report: CheckReport;
  /** Seconds until no receipt was pending, or undefined if the backlog did not drain in time. */
  drain: number | undefined;
  receiptProblems: string[];
}

/** After a workload: the books (every user funded with `funding`), then the receipts once they drain. */
export async function checkRun(
  db: pg.Pool,
  result: WorkloadResult,
  users: { id: number }[],
  funding: string,
  afterTransactionId: number,
): Promise<RunCheck> {
  const expectedTotal = new Decimal(funding).times(users.length).toFixed(2);
  const ids = users.map((u) => u.id);
  const report = await checkBooks(db, result, expectedTotal, ids, afterTransactionId);
  const drain = await waitForReceipts(db, 180_000);
  return { report, drain, receiptProblems: await checkReceipts(db) };
}
