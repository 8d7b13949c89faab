// The receipt activities.
// - printReceipt (run as a local activity, inside the workflow's one task): loads what the receipt shows,
//   prints it together with the receipts that arrive with it, stores it. Loads and stores of receipts that
//   travel together are batched into one statement each. The PDF bytes never travel through Temporal:
//   the result holds only the size, SHA-256 and whether this call stored it.
// - printReceiptAlone: the same as an ordinary activity; the workflow falls back to it when printReceipt
//   failed, so retries, their count and the last error show in the Temporal UI. Its first attempt still
//   shares prints (a fallback after an overload should not cost a print per receipt; a receipt that breaks a
//   shared print is bisected down to a print of its own anyway); every later attempt prints alone.
// - printReceiptBatch (batch.ts): the receipts of a batch transfer, for receiptBatchWorkflow.
// - loadReceiptDocument + renderAndStoreReceipt: the steps of the first workflow version, kept so that
//   receipts started before it changed still complete (see workflows/receipt.ts).
// Storing is idempotent (first PDF wins): a retry after a crash between storing and completing cannot make a
// second receipt. storedNow is per workflow execution: the stored PDF records the run that printed it, so any
// attempt of that run reports true (a lost workflow task or a late print is no second receipt) and any other
// execution for the same transaction reports false.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type pg from 'pg';
import { ledger } from '../db/ledger.js';
import { measureStore } from '../metrics/receipts.js';
import { countRendered, receiptSpan } from '../telemetry/receipt-spans.js';
import { createBatchActivity } from './batch.js';
import { Batcher } from './batcher.js';
import { TRANSACTION_NOT_FOUND } from './failure-types.js';
import { type ReceiptDocument, toReceiptDocument } from './receipt-document.js';
import type { ReceiptRenderer } from './renderer.js';

type Queryable = Pick<pg.Pool, 'query'>;

export interface StoredReceipt {
  transactionId: number;
  pdfSize: number;
  pdfSha256: string;
  /** true for the workflow execution whose print was stored; false for any other execution. */
  storedNow: boolean;
}

export interface ReceiptHeartbeat {
  stage: 'rendering' | 'storing';
  transactionId: number;
}

/** How often a legacy render in progress reports that it is alive (the SDK throttles what reaches the server). */
export const HEARTBEAT_EVERY_MS = 1_000;

function notFound(transactionId: number, error?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    message: `transaction ${transactionId} not found: no receipt can be made for it`,
    type: TRANSACTION_NOT_FOUND,
    nonRetryable: true,
    cause: error instanceof Error ? error : undefined,
  });
}

export function createActivities({ pool, renderer }: { pool: Queryable; renderer: ReceiptRenderer }) {
  const documents = new Batcher<number, ReceiptDocument>(async (ids) => {
    const rows = await ledger.receiptDocuments(pool, ids);
    const byId = new Map(rows.map((row) => [row.transaction_id, row]));
    return ids.map((id) => {
      const row = byId.get(id);
      return row ? toReceiptDocument(row) : notFound(id);
    });
  });

  const stores = new Batcher<{ transactionId: number; pdf: Buffer; runId: string | null }, StoredReceipt>(
    async (items) => {
      const ids = items.map((i) => i.transactionId);
      const rows = await measureStore(() =>
        ledger.storeReceiptPdfs(
          pool,
          ids,
          items.map((i) => i.pdf),
          items.map((i) => i.runId),
        ),
      );
      return rows.map((row) =>
        row.status === null || row.pdf_size === null || row.pdf_sha256 === null
          ? notFound(row.transaction_id)
          : {
              transactionId: row.transaction_id,
              pdfSize: row.pdf_size,
              pdfSha256: row.pdf_sha256,
              storedNow: row.stored_now,
            },
      );
    },
  );

  async function print(transactionId: number, alone: boolean): Promise<StoredReceipt> {
    const doc = await documents.call(transactionId);
    const signal = Context.current().cancellationSignal;
    const pdf = await receiptSpan('receipt.print', transactionId, () =>
      renderer.render(doc, { signal, alone }),
    );
    // Timed out or cancelled while printing: the workflow has moved on (to the fallback), which must be the
    // one that stores and reports storedNow.
    signal.throwIfAborted();
    const runId = Context.current().info.workflowExecution?.runId ?? null;
    return countRendered(
      await receiptSpan('receipt.store', transactionId, () => stores.call({ transactionId, pdf, runId })),
    );
  }

  return {
    printReceipt: (transactionId: number) => print(transactionId, false),

    printReceiptBatch: createBatchActivity({
      pool,
      renderer,
      store: (item) => stores.call(item).then(countRendered),
    }),

    printReceiptAlone: (transactionId: number) => print(transactionId, Context.current().info.attempt > 1),

    loadReceiptDocument: (transactionId: number): Promise<ReceiptDocument> => documents.call(transactionId),

    async renderAndStoreReceipt(doc: ReceiptDocument): Promise<StoredReceipt> {
      const ctx = Context.current();
      let stage: ReceiptHeartbeat['stage'] = 'rendering';
      // The first workflow version declared a heartbeat timeout: honour it while its receipts drain.
      const timer = setInterval(
        () => ctx.heartbeat({ stage, transactionId: doc.transactionId } satisfies ReceiptHeartbeat),
        HEARTBEAT_EVERY_MS,
      );
      try {
        const pdf = await renderer.render(doc, { signal: ctx.cancellationSignal, alone: true });
        stage = 'storing';
        return countRendered(
          await stores.call({
            transactionId: doc.transactionId,
            pdf,
            runId: ctx.info.workflowExecution?.runId ?? null,
          }),
        );
      } finally {
        clearInterval(timer);
      }
    },
  };
}

export type ReceiptActivities = ReturnType<typeof createActivities>;
