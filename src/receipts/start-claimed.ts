// Starting the workflows of claimed receipts, a few at a time, outside any transaction: one per single
// receipt, one per batch (the claimed receipts of a batch share receipt-batch-<batch_id>). It stops early when
// Temporal is unreachable (the rest would fail the same way) or when the lease is half gone (another
// dispatcher may take the receipts over after it), and says what started and what did not.
import type { Client } from '@temporalio/client';
import type { ClaimedReceipt } from '../db/ledger.js';
import { receiptSpan } from '../telemetry/receipt-spans.js';
import { startReceiptBatchWorkflow, startReceiptWorkflow } from '../temporal/start-receipt.js';
import { isTemporalUnavailable } from './temporal-errors.js';

export interface StartOutcome {
  started: number[];
  /** How many workflows the server handed straight to this process's worker (eager start). */
  eager: number;
  /** Workflows started (a batch's is one, whatever its receipts). */
  workflows: number;
  /** Claimed but not started: failed, or never tried. Their leases are to be released. */
  notStarted: number[];
  /** The first failure, and whether it means Temporal is unreachable. */
  error?: { cause: unknown; unavailable: boolean };
}

export interface StartOptions {
  client: Client;
  taskQueue: string;
  concurrency: number;
  timeoutMs: number;
  eager: boolean;
  /** Date.now() after which no new start may begin (the lease's safe half). */
  startBy: number;
  /** Every receipt of each claimed batch (wallet.receipt_batch_members), for its search attribute. */
  batchMembers?: Map<number, number[]>;
}

/** One workflow start: the receipts it covers, and how to start it. */
interface Unit {
  ids: number[];
  start: () => Promise<'started' | 'started-eagerly' | 'already-started'>;
}

export async function startClaimed(rows: ClaimedReceipt[], opts: StartOptions): Promise<StartOutcome> {
  const outcome: StartOutcome = { started: [], eager: 0, workflows: 0, notStarted: [] };
  const all = units(rows, opts);
  for (let i = 0; i < all.length; i += opts.concurrency) {
    if (outcome.error?.unavailable || Date.now() > opts.startBy) {
      outcome.notStarted.push(...all.slice(i).flatMap((u) => u.ids));
      break;
    }
    const chunk = all.slice(i, i + opts.concurrency);
    const results = await Promise.allSettled(chunk.map((unit) => within(opts, unit.start)));
    results.forEach((result, k) => {
      const { ids } = chunk[k] as Unit;
      if (result.status === 'fulfilled') {
        outcome.started.push(...ids);
        outcome.workflows++;
        if (result.value === 'started-eagerly') outcome.eager++;
        return;
      }
      outcome.notStarted.push(...ids);
      const unavailable = isTemporalUnavailable(result.reason);
      if (!outcome.error || (unavailable && !outcome.error.unavailable))
        outcome.error = { cause: result.reason, unavailable };
    });
  }
  return outcome;
}

/** The starts to make, in claim order: each single receipt alone, each batch once. */
function units(rows: ClaimedReceipt[], opts: StartOptions): Unit[] {
  const list: Unit[] = [];
  const batches = new Map<number, Unit>();
  for (const row of rows) {
    if (row.batch_id === null) {
      list.push({ ids: [row.transaction_id], start: () => startOne(opts, row) });
      continue;
    }
    const known = batches.get(row.batch_id);
    if (known) {
      known.ids.push(row.transaction_id);
      continue;
    }
    const batchId = row.batch_id;
    const unit: Unit = {
      ids: [row.transaction_id],
      start: () =>
        receiptSpan('receipt.dispatch', batchId, () =>
          startReceiptBatchWorkflow(
            opts.client,
            opts.taskQueue,
            {
              batchId,
              senderId: row.sender_id,
              transactionIds: opts.batchMembers?.get(batchId) ?? unit.ids,
            },
            opts.eager,
          ),
        ),
    };
    batches.set(batchId, unit);
    list.push(unit);
  }
  return list;
}

function within<T>(opts: StartOptions, start: () => Promise<T>): Promise<T> {
  return opts.client.withDeadline(Date.now() + opts.timeoutMs, start);
}

function startOne(opts: StartOptions, row: ClaimedReceipt) {
  const receipt = {
    transactionId: row.transaction_id,
    kind: row.kind,
    senderId: row.sender_id,
    receiverId: row.receiver_id,
    amount: row.amount,
  };
  // A trace of its own (the request that made the receipt is long gone), carried into the workflow.
  return receiptSpan('receipt.dispatch', row.transaction_id, () =>
    startReceiptWorkflow(opts.client, opts.taskQueue, receipt, opts.eager),
  );
}
