// printReceiptBatch: the activity of a batch's receipt workflow. It loads the batch's receipts still pending,
// hands them all to the renderer at once (the coalescer prints them in prints of up to RECEIPT_BATCH_MAX, on
// every page), and stores each print's PDFs as the print finishes: the stores of one print come back in the
// same turn of the event loop, so the store batcher makes them one statement (two or so for 100 receipts).
// - A receipt that cannot be printed (the coalescer has bisected it down to a print of its own) is reported,
//   not retried here: the workflow hands it to a workflow of its own, and its neighbours are stored.
// - A renderer that went away (Chromium crashed, worker closing) fails the whole attempt instead: it is no
//   fault of any one receipt. Temporal retries it; the retry loads only what is still pending, so a receipt
//   stored before the failure (or before a SIGKILL) is never printed again.
import { setMaxListeners } from 'node:events';
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import { ledger } from '../db/ledger.js';
import type { FallenOutReceipt } from '../workflows/types.js';
import type { StoredReceipt } from './index.js';
import { type ReceiptDocument, toReceiptDocument } from './receipt-document.js';
import { type ReceiptRenderer, RendererUnavailableError } from './renderer.js';

type Queryable = Pick<pg.Pool, 'query'>;

export interface BatchPrintResult {
  /** Printed and stored by this workflow run. */
  stored: number[];
  /** Found stored by another run when this one stored (it prints only what was pending when it loaded). */
  storedElsewhere: number[];
  /** Could not be printed: for workflows of their own. */
  failed: FallenOutReceipt[];
}

/** How often a batch in progress reports that it is alive: a dead worker's batch is retried after the
 *  heartbeat timeout, not after the whole start-to-close bound. */
export const BATCH_HEARTBEAT_MS = 1_000;

export interface BatchActivityDeps {
  pool: Queryable;
  renderer: ReceiptRenderer;
  /** The activities' store batcher (one statement for the receipts that finish together). */
  store: (item: { transactionId: number; pdf: Buffer; runId: string | null }) => Promise<StoredReceipt>;
}

function fallenOut(doc: ReceiptDocument): FallenOutReceipt {
  return {
    transactionId: doc.transactionId,
    senderId: doc.sender?.id ?? null,
    receiverId: doc.receiver.id,
    amount: doc.amount,
  };
}

export function createBatchActivity({ pool, renderer, store }: BatchActivityDeps) {
  return async function printReceiptBatch(batchId: number): Promise<BatchPrintResult> {
    const ctx = Context.current();
    const runId = ctx.info.workflowExecution?.runId ?? null;
    const ids = await ledger.pendingBatchReceipts(pool, batchId);
    const rows = ids.length === 0 ? [] : await ledger.receiptDocuments(pool, ids);
    const docs = rows.map(toReceiptDocument).sort((a, b) => a.transactionId - b.transactionId);
    const signal = ctx.cancellationSignal;
    // Every render of the batch listens to the one signal (Node warns past 10 listeners by default).
    setMaxListeners(docs.length * 2 + 10, signal);
    const heartbeat = setInterval(() => ctx.heartbeat(), BATCH_HEARTBEAT_MS);
    try {
      const outcomes = await Promise.allSettled(
        docs.map(async (doc) => {
          const pdf = await renderer.render(doc, { signal });
          signal.throwIfAborted(); // cancelled or timed out: a later attempt stores
          return store({ transactionId: doc.transactionId, pdf, runId });
        }),
      );
      const result: BatchPrintResult = { stored: [], storedElsewhere: [], failed: [] };
      outcomes.forEach((outcome, i) => {
        const doc = docs[i] as ReceiptDocument;
        if (outcome.status === 'fulfilled') {
          (outcome.value.storedNow ? result.stored : result.storedElsewhere).push(doc.transactionId);
          return;
        }
        // The renderer or the database is gone, or the attempt was cancelled: retry the whole attempt.
        if (signal.aborted || !isReceiptFault(outcome.reason)) throw outcome.reason;
        result.failed.push(fallenOut(doc));
      });
      return result;
    } finally {
      clearInterval(heartbeat);
    }
  };
}

/** A print failure that belongs to this one receipt (not to Chromium, not to the database). */
function isReceiptFault(error: unknown): boolean {
  if (error instanceof RendererUnavailableError) return false;
  // Database errors carry a SQLSTATE; the store failing is not the receipt's fault.
  return !(error && typeof error === 'object' && 'code' in error && typeof error.code === 'string');
}
