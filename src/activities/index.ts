// The receipt activities. Two of them, on purpose:
// - loadReceiptDocument reads what the receipt shows (run as a local activity). Its result, a few hundred
//   bytes, is recorded in the workflow history, so an operator sees exactly what was printed, and a missing
//   transaction fails here, non-retryably, before any Chromium work.
// - renderAndStoreReceipt prints the PDF and stores it in one activity, so the PDF bytes (tens of KB) never
//   travel through Temporal: history holds only the size and SHA-256. Storing is idempotent (first PDF
//   wins), so a retry after a crash between printing and reporting completion cannot make a second receipt.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type pg from 'pg';
import { SqlState, sqlStateOf } from '../db/sqlstate.js';
import { TRANSACTION_NOT_FOUND } from './failure-types.js';
import { type ReceiptDocument, type ReceiptDocumentRow, toReceiptDocument } from './receipt-document.js';
import type { ReceiptRenderer } from './renderer.js';

type Queryable = Pick<pg.Pool, 'query'>;

export interface StoredReceipt {
  transactionId: number;
  pdfSize: number;
  pdfSha256: string;
  /** false when an earlier attempt had already stored this receipt's PDF. */
  storedNow: boolean;
}

export interface ReceiptHeartbeat {
  stage: 'rendering' | 'storing';
  transactionId: number;
}

/** How often a render in progress reports that it is alive (the SDK throttles what reaches the server). */
export const HEARTBEAT_EVERY_MS = 1_000;

function notFound(transactionId: number, error: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    message: `transaction ${transactionId} not found: no receipt can be made for it`,
    type: TRANSACTION_NOT_FOUND,
    nonRetryable: true,
    cause: error instanceof Error ? error : undefined,
  });
}

export function createActivities({ pool, renderer }: { pool: Queryable; renderer: ReceiptRenderer }) {
  async function store(transactionId: number, pdf: Buffer): Promise<StoredReceipt> {
    try {
      const { rows } = await pool.query<{ pdf_size: number; pdf_sha256: string; stored_now: boolean }>(
        'SELECT * FROM wallet.store_receipt_pdf($1, $2)',
        [transactionId, pdf],
      );
      const row = rows[0];
      if (!row) throw notFound(transactionId, undefined);
      return { transactionId, pdfSize: row.pdf_size, pdfSha256: row.pdf_sha256, storedNow: row.stored_now };
    } catch (error) {
      if (sqlStateOf(error) === SqlState.transactionNotFound) throw notFound(transactionId, error);
      throw error;
    }
  }

  return {
    async loadReceiptDocument(transactionId: number): Promise<ReceiptDocument> {
      try {
        const { rows } = await pool.query<ReceiptDocumentRow>('SELECT * FROM wallet.receipt_document($1)', [
          transactionId,
        ]);
        const row = rows[0];
        if (!row) throw notFound(transactionId, undefined);
        return toReceiptDocument(row);
      } catch (error) {
        if (sqlStateOf(error) === SqlState.transactionNotFound) throw notFound(transactionId, error);
        throw error; // anything else (database down, timeout) is transient: retried with backoff
      }
    },

    async renderAndStoreReceipt(doc: ReceiptDocument): Promise<StoredReceipt> {
      const ctx = Context.current();
      let stage: ReceiptHeartbeat['stage'] = 'rendering';
      // Heartbeats carry no progress to resume from (a retried render starts over); they let the server
      // notice a dead worker within the heartbeat timeout instead of the whole start-to-close. The first one
      // comes after a second, so a typical render (well under a second) costs no heartbeat round trip.
      const timer = setInterval(
        () => ctx.heartbeat({ stage, transactionId: doc.transactionId } satisfies ReceiptHeartbeat),
        HEARTBEAT_EVERY_MS,
      );
      try {
        const pdf = await renderer.render(doc, { signal: ctx.cancellationSignal });
        stage = 'storing';
        return await store(doc.transactionId, pdf);
      } finally {
        clearInterval(timer);
      }
    },
  };
}

export type ReceiptActivities = ReturnType<typeof createActivities>;
