// receiptBatchWorkflow: the receipts of up to 100 items of one batch transfer (receipt-batch-<first id>), in one
// workflow instead of one each: a workflow costs its floor (15-30 ms of CPU) whatever it prints, so a batch's
// receipts share it. Deterministic code only.
//
// One ordinary activity prints and stores them all (coalesced prints, a few store statements), heartbeating,
// retried for as long as it takes; a retry prints only what is still pending. A receipt that cannot be printed
// falls out to its own receiptWorkflow (receipt-<id>, a child left running when this one closes): retried
// without end and visible in the UI like any single receipt, while its neighbours are already stored.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, proxyActivities, startChild, WorkflowIdReusePolicy } from '@temporalio/workflow';
import type { ReceiptActivities } from '../activities/index.js';
import {
  ReceiverIdKey,
  SenderIdKey,
  TransactionIdKey,
  TransactionIdsKey,
} from '../temporal/search-attributes.js';
import { receiptWorkflow } from './receipt.js';
import type {
  FallenOutReceipt,
  ReceiptBatchResult,
  ReceiptBatchWorkflowInput,
  ReceiptWorkflowInput,
} from './types.js';

// Heartbeats every second: a worker that dies is noticed after 15 s and the batch retried elsewhere. The
// start-to-close bound covers 100 receipts on a slow machine.
const { printReceiptBatch } = proxyActivities<ReceiptActivities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' }, // no attempt limit
});

async function fallOut(receipt: FallenOutReceipt): Promise<void> {
  const { transactionId, senderId, receiverId } = receipt;
  try {
    await startChild(receiptWorkflow, {
      workflowId: `receipt-${transactionId}`,
      args: [{ transactionId, shape: 'one-task' } satisfies ReceiptWorkflowInput],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      typedSearchAttributes: [
        { key: TransactionIdKey, value: transactionId },
        { key: TransactionIdsKey, value: [String(transactionId)] },
        { key: ReceiverIdKey, value: receiverId },
        ...(senderId === null ? [] : [{ key: SenderIdKey, value: senderId }]),
      ],
      memo: { amount: receipt.amount, kind: senderId === null ? 'deposit' : 'transfer' },
    });
  } catch (error) {
    // It has its own workflow already (an earlier run of this batch handed it over): nothing to do.
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

export async function receiptBatchWorkflow(input: ReceiptBatchWorkflowInput): Promise<ReceiptBatchResult> {
  const printed = await printReceiptBatch(input.batchId);
  await Promise.all(printed.failed.map(fallOut));
  return {
    batchId: input.batchId,
    stored: printed.stored.length,
    alreadyStored: printed.storedElsewhere.length,
    fellOut: printed.failed.map((r) => r.transactionId),
  };
}
