// Typed calls to the SQL functions of db/procedures. Money is the exact string PostgreSQL returns.
import type pg from 'pg';
import { countDatabaseError } from '../metrics/pool.js';
import type { ReceiptBacklog, ReceiptDocumentRow, StatementSummary } from './rows.js';

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

export interface TransferRow {
  transaction_id: number;
  sender_balance: string;
  receiver_balance: string;
  created_at: Date;
  replayed: boolean;
}

export interface BatchItemRow {
  item: number;
  transaction_id: number;
  receiver_id: number;
  amount: string;
  sender_balance: string;
  receiver_balance: string;
  created_at: Date;
  replayed: boolean;
}

export interface DepositRow {
  transaction_id: number;
  balance: string;
  created_at: Date;
  replayed: boolean;
}

export type TransactionKind = 'transfer' | 'deposit' | 'capture' | 'refund';

export interface TransactionView {
  id: number;
  kind: TransactionKind;
  direction: 'sent' | 'received';
  counterparty_id: number | null;
  amount: string;
  created_at: Date;
  receipt_status: 'pending' | 'rendered';
  /** A refund's original; null for other kinds. */
  refund_of: number | null;
  /** Refunded so far of a transfer or capture; null for other kinds. */
  refunded_total: string | null;
}

export interface ClaimedReceipt {
  transaction_id: number;
  sender_id: number | null;
  receiver_id: number;
  amount: string;
  /** Set for the receipts of a batch transfer: they share the workflow receipt-batch-<batch_id>. */
  batch_id: number | null;
  kind: TransactionKind;
}

export interface HoldRow {
  hold_id: number;
  available_balance: string;
  expires_at: Date;
  replayed: boolean;
}

export interface HoldView {
  hold_id: number;
  status: 'open' | 'captured' | 'released' | 'expired';
  sender_id: number;
  receiver_id: number;
  amount: string;
  captured_amount: string | null;
  transaction_id: number | null;
  created_at: Date;
  expires_at: Date;
  closed_at: Date | null;
}

export interface StoredPdfRow {
  transaction_id: number;
  /** null: no receipt row for this id. */
  status: 'pending' | 'rendered' | null;
  pdf_size: number | null;
  pdf_sha256: string | null;
  rendered_at: Date | null;
  stored_now: boolean;
}

export interface RefundRow {
  transaction_id: number;
  refund_of: number;
  amount: string;
  refunded_total: string;
  refundable_remaining: string;
  sender_balance: string;
  receiver_balance: string;
  replayed: boolean;
}

/** A row of wallet.statement (created_at still a Date). */
export interface StatementEntryRow {
  entry: number;
  transaction_id: number;
  kind: string;
  direction: 'sent' | 'received';
  counterparty_id: number | null;
  amount: string;
  balance_after: string;
  created_at: Date;
  hash: string;
}

export interface StoredStatementRow {
  pdf_size: number;
  pdf_sha256: string;
  rendered_at: Date;
  stored_now: boolean;
}

export interface Credentials {
  user_id: number;
  username: string;
  password_hash: string | null;
}

// Every call is a named prepared statement, named after the function it calls: each connection parses and
// plans it once, then only binds and executes. bench/sql measured about 10% more wallet.transfer throughput
// this way (pgbench -M prepared against -M simple). pg refuses to reuse a name for another text, so a second
// call shape of one function would fail loudly in the tests rather than silently run the wrong statement.
async function all<T>(db: Queryable, text: string, values: unknown[] = []): Promise<T[]> {
  const name = /\bwallet\.\w+/.exec(text)?.[0];
  if (!name) throw new Error(`not a call to a wallet function: ${text}`);
  try {
    const { rows } = await db.query({ name, text, values });
    return rows as T[];
  } catch (error) {
    countDatabaseError(error); // wallet_db_errors_total: every call passes here
    throw error;
  }
}

async function one<T>(db: Queryable, text: string, values: unknown[]): Promise<T> {
  return (await all<T>(db, text, values))[0] as T;
}

export const ledger = {
  transfer: (db: Queryable, senderId: number, receiverId: number, amount: string, key?: string) =>
    one<TransferRow>(db, 'SELECT * FROM wallet.transfer($1, $2, $3::numeric, $4)', [
      senderId,
      receiverId,
      amount,
      key ?? null,
    ]),

  transferBatch: (db: Queryable, senderId: number, receiverIds: number[], amounts: string[], key?: string) =>
    all<BatchItemRow>(db, 'SELECT * FROM wallet.transfer_batch($1, $2::bigint[], $3::numeric[], $4)', [
      senderId,
      receiverIds,
      amounts,
      key ?? null,
    ]),

  deposit: (db: Queryable, userId: number, amount: string, key?: string) =>
    one<DepositRow>(db, 'SELECT * FROM wallet.deposit($1, $2::numeric, $3)', [userId, amount, key ?? null]),

  balance: (db: Queryable, userId: number) =>
    one<{ user_id: number; username: string; balance: string; available: string } | undefined>(
      db,
      'SELECT * FROM wallet.balance($1)',
      [userId],
    ),

  hold: (
    db: Queryable,
    senderId: number,
    receiverId: number,
    amount: string,
    seconds: number,
    key?: string,
  ) =>
    one<HoldRow>(db, 'SELECT * FROM wallet.hold($1, $2, $3::numeric, make_interval(secs => $4), $5)', [
      senderId,
      receiverId,
      amount,
      seconds,
      key ?? null,
    ]),

  /** As the receiver: W1021 for a hold the user is not party to, W1024 for its sender. */
  capture: (db: Queryable, userId: number, holdId: number, amount: string | null, key?: string) =>
    one<TransferRow>(db, 'SELECT * FROM wallet.capture($1, $2::numeric, $3, $4)', [
      holdId,
      amount,
      key ?? null,
      userId,
    ]),

  release: (db: Queryable, userId: number, holdId: number) =>
    one<{ hold_id: number; status: 'released' }>(db, 'SELECT * FROM wallet.release($1, $2)', [
      holdId,
      userId,
    ]),

  holdsFor: (db: Queryable, userId: number, status: string | null, limit: number, before: number | null) =>
    all<HoldView>(db, 'SELECT * FROM wallet.holds_for($1, $2, $3, $4)', [userId, status, limit, before]),

  holdFor: (db: Queryable, userId: number, holdId: number) =>
    one<HoldView | undefined>(db, 'SELECT * FROM wallet.hold_for($1, $2)', [userId, holdId]),

  createUser: async (db: Queryable, username: string, passwordHash: string | null) =>
    (await one<{ id: number }>(db, 'SELECT wallet.create_user($1, $2) AS id', [username, passwordHash])).id,

  setPassword: async (db: Queryable, username: string, passwordHash: string) =>
    (await one<{ id: number }>(db, 'SELECT wallet.set_password($1, $2) AS id', [username, passwordHash])).id,

  credentials: (db: Queryable, username: string) =>
    one<Credentials | undefined>(db, 'SELECT * FROM wallet.user_credentials($1)', [username]),

  history: async (db: Queryable, userId: number, limit: number, before: number | null) =>
    all<TransactionView>(db, 'SELECT * FROM wallet.history($1, $2, $3)', [userId, limit, before]),

  transactionFor: (db: Queryable, userId: number, transactionId: number) =>
    one<TransactionView | undefined>(db, 'SELECT * FROM wallet.transaction_for($1, $2)', [
      userId,
      transactionId,
    ]),

  receiptFor: (db: Queryable, userId: number, transactionId: number) =>
    one<{ status: 'pending' | 'rendered'; pdf: Buffer | null; pdf_sha256: string | null } | undefined>(
      db,
      'SELECT * FROM wallet.receipt_for($1, $2)',
      [userId, transactionId],
    ),

  /** Counts exact up to wallet.receipt_backlog_count_cap() (10,000); above it the count is the cap and its
   *  _capped flag is true, so the call costs the same at any backlog. */
  receiptBacklog: (db: Queryable) => one<ReceiptBacklog>(db, 'SELECT * FROM wallet.receipt_backlog()', []),

  /** The dispatcher's lease (db/procedures/receipts.sql): claimed and committed in one statement. */
  claimReceipts: (db: Queryable, claimer: string, limit: number, leaseMs: number) =>
    all<ClaimedReceipt>(
      db,
      "SELECT * FROM wallet.claim_receipts($1, $2, $3::integer * interval '1 millisecond')",
      [claimer, limit, leaseMs],
    ),

  releaseReceipts: async (db: Queryable, claimer: string, transactionIds: number[]) =>
    (
      await one<{ n: number }>(db, 'SELECT wallet.release_receipts($1, $2::bigint[]) AS n', [
        claimer,
        transactionIds,
      ])
    ).n,

  receiptsInFlight: async (db: Queryable, leaseMs: number) =>
    (
      await one<{ n: number }>(
        db,
        "SELECT wallet.receipts_in_flight($1::integer * interval '1 millisecond') AS n",
        [leaseMs],
      )
    ).n,

  /** Every receipt of each batch, whatever its state (for the batch workflow's search attribute). */
  receiptBatchMembers: async (db: Queryable, batchIds: number[]) =>
    (
      await all<{ batch_id: number; transaction_ids: (string | number)[] }>(
        db,
        'SELECT * FROM wallet.receipt_batch_members($1::bigint[])',
        [batchIds],
      )
    ).map((row) => ({ batchId: row.batch_id, transactionIds: row.transaction_ids.map(Number) })),

  /** The receipts of a batch that are still pending, by id. */
  pendingBatchReceipts: async (db: Queryable, batchId: number) =>
    (await all<{ id: number }>(db, 'SELECT wallet.pending_batch_receipts($1) AS id', [batchId])).map(
      (row) => row.id,
    ),

  markReceiptsStarted: async (db: Queryable, transactionIds: number[]) =>
    (await one<{ n: number }>(db, 'SELECT wallet.mark_receipts_started($1::bigint[]) AS n', [transactionIds]))
      .n,

  receiptDocuments: (db: Queryable, transactionIds: number[]) =>
    all<ReceiptDocumentRow>(db, 'SELECT * FROM wallet.receipt_documents($1::bigint[])', [transactionIds]),

  /** One row per input position, in order (see wallet.store_receipt_pdfs); renderedBy: workflow run ids. */
  storeReceiptPdfs: (
    db: Queryable,
    transactionIds: number[],
    pdfs: Buffer[],
    renderedBy: (string | null)[],
  ) =>
    all<StoredPdfRow>(db, 'SELECT * FROM wallet.store_receipt_pdfs($1::bigint[], $2::bytea[], $3::text[])', [
      transactionIds,
      pdfs,
      renderedBy,
    ]),

  /** As the original receiver (p_acting_user_id): the refund of all (amount null) or part of a transaction. */
  refund: (db: Queryable, userId: number, transactionId: number, amount: string | null, key?: string) =>
    one<RefundRow>(db, 'SELECT * FROM wallet.refund($1, $2::numeric, $3, $4)', [
      transactionId,
      amount,
      key ?? null,
      userId,
    ]),

  balanceAt: async (db: Queryable, userId: number, at: Date) =>
    (await one<{ balance: string }>(db, 'SELECT wallet.balance_at($1, $2) AS balance', [userId, at])).balance,

  statementSummary: (db: Queryable, userId: number, from: Date, to: Date) =>
    one<StatementSummary>(db, 'SELECT * FROM wallet.statement_summary($1, $2, $3)', [userId, from, to]),

  /** The entries of [from, to) after entry number `after` (null: from the first), at most `limit`. */
  statement: (db: Queryable, userId: number, from: Date, to: Date, after: number | null, limit: number) =>
    all<StatementEntryRow>(db, 'SELECT * FROM wallet.statement($1, $2, $3, $4, $5)', [
      userId,
      from,
      to,
      after,
      limit,
    ]),

  statementPdfFor: (db: Queryable, userId: number, from: Date, to: Date) =>
    one<{ pdf: Buffer; pdf_size: number; pdf_sha256: string } | undefined>(
      db,
      'SELECT * FROM wallet.statement_pdf_for($1, $2, $3)',
      [userId, from, to],
    ),

  /** Waits out movements in flight on the wallet; closed: nothing can be dated before `to` any more. */
  closeStatementPeriod: (db: Queryable, userId: number, from: Date, to: Date) =>
    one<{ username: string; closed: boolean; stored_size: number | null; stored_sha256: string | null }>(
      db,
      'SELECT * FROM wallet.close_statement_period($1, $2, $3)',
      [userId, from, to],
    ),

  storeStatementPdf: (
    db: Queryable,
    userId: number,
    from: Date,
    to: Date,
    pdf: Buffer,
    closing: { entry: number; hash: string | null },
    renderedBy: string | null,
  ) =>
    one<StoredStatementRow>(db, 'SELECT * FROM wallet.store_statement_pdf($1, $2, $3, $4, $5, $6, $7)', [
      userId,
      from,
      to,
      pdf,
      closing.entry,
      closing.hash,
      renderedBy,
    ]),

  /** Wallets with entries in [from, to) and no stored statement for it, by id after `after`. */
  statementWallets: async (db: Queryable, from: Date, to: Date, after: number, limit: number) =>
    (
      await all<{ user_id: number }>(db, 'SELECT * FROM wallet.statement_wallets($1, $2, $3, $4)', [
        from,
        to,
        after,
        limit,
      ])
    ).map((r) => r.user_id),

  audit: (db: Queryable) =>
    all<{ problem: string; user_id: number | null; transaction_id: number | null; detail: string }>(
      db,
      'SELECT * FROM wallet.audit()',
    ),
};
