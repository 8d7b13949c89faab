// Row types of the ledger functions that return more than a scalar, next to the typed calls that read them
// (ledger.ts): the database layer knows these shapes and nothing of what the renderer or the API makes of
// them. Money is the exact decimal string PostgreSQL returned, never a number.

/** A row of wallet.receipt_documents / wallet.receipt_document. */
export interface ReceiptDocumentRow {
  transaction_id: number;
  kind: string;
  created_at: Date;
  sender_id: number | null;
  sender_username: string | null;
  receiver_id: number;
  receiver_username: string;
  amount: string;
  record_sha256: string;
  hold_id: number | null;
  refund_of?: number | null;
}

/** The row of wallet.statement_summary. */
export interface StatementSummary {
  opening_balance: string;
  closing_balance: string;
  total_in: string;
  total_out: string;
  entries: number;
  /** The wallet's last entry at the end of the period (0 before its first), and that entry's hash (hex). */
  closing_entry: number;
  closing_hash: string | null;
}

/** Where wallet.receipt_backlog()'s counts stop: wallet.receipt_backlog_count_cap() in db/procedures/receipts.sql
 *  says why 10,000 (tests/db/receipt-backlog.test.ts checks the two agree). Quoted by /ready's schema and the
 *  backlog gauges' help. */
export const RECEIPT_BACKLOG_COUNT_CAP = 10_000;

/** A row of wallet.receipt_backlog(): each count is exact up to RECEIPT_BACKLOG_COUNT_CAP; above it the count is
 *  the cap and its _capped flag is true ("more than 10,000"). The oldest pending time is exact. */
export interface ReceiptBacklog {
  pending: number;
  pending_capped: boolean;
  unstarted: number;
  unstarted_capped: boolean;
  oldest_pending_at: Date | null;
}
