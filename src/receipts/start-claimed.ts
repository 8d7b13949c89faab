// Starting the workflows of claimed receipts, a few at a time, outside any transaction. It stops early when
// Temporal is unreachable (the rest would fail the same way) or when the lease is half gone (another
// dispatcher may take the receipts over after it), and says what started and what did not.
import type { Client } from '@temporalio/client';
import type { ClaimedReceipt } from '../db/ledger.js';
import { receiptSpan } from '../telemetry/receipt-spans.js';
import { startReceiptWorkflow } from '../temporal/start-receipt.js';
import { isTemporalUnavailable } from './temporal-errors.js';

export interface StartOutcome {
  started: number[];
  /** How many of those the server handed straight to this process's worker (eager start). */
  eager: number;
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
}

export async function startClaimed(rows: ClaimedReceipt[], opts: StartOptions): Promise<StartOutcome> {
  const outcome: StartOutcome = { started: [], eager: 0, notStarted: [] };
  for (let i = 0; i < rows.length; i += opts.concurrency) {
    if (outcome.error?.unavailable || Date.now() > opts.startBy) {
      outcome.notStarted.push(...rows.slice(i).map((r) => r.transaction_id));
      break;
    }
    const chunk = rows.slice(i, i + opts.concurrency);
    const results = await Promise.allSettled(chunk.map((row) => startOne(opts, row)));
    results.forEach((result, k) => {
      const id = (chunk[k] as ClaimedReceipt).transaction_id;
      if (result.status === 'fulfilled') {
        outcome.started.push(id);
        if (result.value === 'started-eagerly') outcome.eager++;
        return;
      }
      outcome.notStarted.push(id);
      const unavailable = isTemporalUnavailable(result.reason);
      if (!outcome.error || (unavailable && !outcome.error.unavailable))
        outcome.error = { cause: result.reason, unavailable };
    });
  }
  return outcome;
}

function startOne(opts: StartOptions, row: ClaimedReceipt) {
  const receipt = {
    transactionId: row.transaction_id,
    senderId: row.sender_id,
    receiverId: row.receiver_id,
    amount: row.amount,
  };
  // A trace of its own (the request that made the receipt is long gone), carried into the workflow.
  return receiptSpan('receipt.dispatch', row.transaction_id, () =>
    opts.client.withDeadline(Date.now() + opts.timeoutMs, () =>
      startReceiptWorkflow(opts.client, opts.taskQueue, receipt, opts.eager),
    ),
  );
}
