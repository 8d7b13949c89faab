// What a receipt shows: the row of wallet.receipt_document, made JSON-safe because it travels through
// Temporal history (as the load activity's result and the render activity's argument).

import type { ReceiptDocumentRow } from '../db/rows.js';

export interface ReceiptParty {
  id: number;
  username: string;
}

export interface ReceiptDocument {
  transactionId: number;
  kind: 'transfer' | 'deposit' | 'capture' | 'refund';
  /** The hold a capture settles; null for other kinds. */
  holdId?: number | null;
  /** The transaction a refund gives back; null for other kinds. */
  refundOf?: number | null;
  /** ISO 8601 in UTC, e.g. 2025-01-31T12:34:56.789Z. */
  createdAt: string;
  /** null for a deposit: money that came from outside the ledger has no sender wallet. */
  sender: ReceiptParty | null;
  receiver: ReceiptParty;
  /** Exact decimal string as PostgreSQL returned it, e.g. "50.00". Never a number. */
  amount: string;
  /** SHA-256 (hex) of the transaction record, computed by the database. */
  recordSha256: string;
}

export function toReceiptDocument(row: ReceiptDocumentRow): ReceiptDocument {
  if (row.kind !== 'transfer' && row.kind !== 'deposit' && row.kind !== 'capture' && row.kind !== 'refund') {
    throw new Error(`transaction ${row.transaction_id} has an unknown kind "${row.kind}"`);
  }
  return {
    transactionId: row.transaction_id,
    kind: row.kind,
    holdId: row.hold_id ?? null,
    refundOf: row.refund_of ?? null,
    createdAt: row.created_at.toISOString(),
    sender: row.sender_id === null ? null : { id: row.sender_id, username: row.sender_username ?? '' },
    receiver: { id: row.receiver_id, username: row.receiver_username },
    amount: row.amount,
    recordSha256: row.record_sha256,
  };
}
