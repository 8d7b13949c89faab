// receiptWorkflow: print and store the receipt of one transaction. Deterministic code only: activities are
// imported as types and run through proxies; every timeout and retry is stated here.
//
// The happy path completes in ONE workflow task: printReceipt runs as a local activity inside it (load,
// coalesced print, batched store), so a receipt costs the server one task and no activity round trips. If it
// fails, the workflow falls back to printReceiptAlone, an ordinary activity retried for as long as it takes,
// so an operator sees in the UI that it is retrying, the attempt count and the last error.
// The shape is chosen by the input (`shape: 'one-task'`, set by every start): it is in the history's first
// event, so replay takes the same branch, and it costs nothing. Executions started before that field existed
// tell their shape by the 'one-task-receipt' patch marker (present: one task; absent: the first version's
// steps). New executions no longer call patched(): in this SDK each call records a marker and upserts the
// TemporalChangeVersion search attribute, a visibility write per receipt on the Temporal server.
import {
  ActivityFailure,
  ApplicationFailure,
  patched,
  proxyActivities,
  proxyLocalActivities,
} from '@temporalio/workflow';
import { TRANSACTION_NOT_FOUND } from '../activities/failure-types.js';
import type { ReceiptActivities, StoredReceipt } from '../activities/index.js';
import type { ReceiptWorkflowInput } from './types.js';

export const ONE_TASK_PATCH = 'one-task-receipt';

// Transient failures (database or Chromium down, worker killed) are retried for as long as it takes:
// 1 s, 2 s, 4 s ... capped at 1 min, no attempt limit. Only a missing transaction gives up at once.
const retry = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  // no maximumAttempts: unlimited
  nonRetryableErrorTypes: [TRANSACTION_NOT_FOUND],
};

// One attempt: a failure goes to the ordinary activity at once, where retries are visible. The bound stays
// under the workflow task timeout (10 s): on an overloaded worker a slow print must end the task (by falling
// back) rather than time it out, which would discard the print and repeat it. A worker that dies meanwhile
// is noticed by that task timeout, and the task runs again on another worker.
const { printReceipt } = proxyLocalActivities<ReceiptActivities>({
  startToCloseTimeout: '5s',
  retry: { maximumAttempts: 1 },
});

// No heartbeat: a print takes milliseconds. The bound covers a queue for a page and a cold Chromium
// relaunch, and is how soon a dead worker's attempt is retried elsewhere.
const { printReceiptAlone } = proxyActivities<ReceiptActivities>({ startToCloseTimeout: '30s', retry });

// The first version's steps (load, then render and store), for histories recorded before the patch.
const { loadReceiptDocument } = proxyLocalActivities<ReceiptActivities>({
  startToCloseTimeout: '15s',
  retry,
});
const { renderAndStoreReceipt } = proxyActivities<ReceiptActivities>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: '15s',
  retry,
});

function isNotFound(error: unknown): boolean {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure && cause.type === TRANSACTION_NOT_FOUND;
}

export async function receiptWorkflow(input: ReceiptWorkflowInput): Promise<StoredReceipt> {
  if (input.shape !== 'one-task' && !patched(ONE_TASK_PATCH)) {
    const doc = await loadReceiptDocument(input.transactionId);
    return await renderAndStoreReceipt(doc);
  }
  try {
    return await printReceipt(input.transactionId);
  } catch (error) {
    if (isNotFound(error)) throw error;
  }
  return await printReceiptAlone(input.transactionId);
}
