// receiptWorkflow: load the transaction, then print and store its PDF. Deterministic code only: activities
// are imported as types and run through proxies; every timeout and retry is stated here.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import { TRANSACTION_NOT_FOUND } from '../activities/failure-types.js';
import type { ReceiptActivities, StoredReceipt } from '../activities/index.js';
import type { ReceiptWorkflowInput } from './types.js';

// Transient failures (database or Chromium down, worker killed) are retried for as long as it takes:
// 1 s, 2 s, 4 s ... capped at 1 min, no attempt limit. Only a missing transaction gives up at once.
const retry = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  // no maximumAttempts: unlimited
  nonRetryableErrorTypes: [TRANSACTION_NOT_FOUND],
};

// A local activity: one indexed read, run by the worker inside the workflow task, so it costs no extra round
// trips through the server (about a third of the Temporal work per receipt). Its result is still recorded in
// history, as a marker: the document that was printed stays visible to operators.
const { loadReceiptDocument } = proxyLocalActivities<ReceiptActivities>({
  // 15 s also covers a pool briefly waiting for a connection.
  startToCloseTimeout: '15s',
  retry,
});

const { renderAndStoreReceipt } = proxyActivities<ReceiptActivities>({
  // A render takes well under a second when warm; the bound covers a queue for a page and a cold relaunch of
  // Chromium. A dead worker is noticed sooner, by the missing heartbeats (sent every second, throttled by the
  // SDK to at most every 0.8 x 15 s).
  startToCloseTimeout: '2m',
  heartbeatTimeout: '15s',
  retry,
});

export async function receiptWorkflow(input: ReceiptWorkflowInput): Promise<StoredReceipt> {
  const doc = await loadReceiptDocument(input.transactionId);
  return await renderAndStoreReceipt(doc);
}
