// Starting a receipt workflow, the one way both the API (right after commit) and the dispatcher do it, and
// the workflow of a batch's receipts (the dispatcher only).
// The workflow id is the business id, so two starts of one receipt collapse into one execution.
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { TransactionKind } from '../db/ledger.js';
import type { ReceiptBatchWorkflowInput, ReceiptWorkflowInput } from '../workflows/types.js';
import { ReceiverIdKey, SenderIdKey, TransactionIdKey, TransactionIdsKey } from './search-attributes.js';

export const RECEIPT_WORKFLOW_TYPE = 'receiptWorkflow';

export interface ReceiptStart {
  transactionId: number;
  /** Shown in the workflow's memo, for operators: a refund or a capture is not a transfer. */
  kind: TransactionKind;
  senderId: number | null; // null for a deposit
  receiverId: number;
  amount: string;
}

export function receiptWorkflowId(transactionId: number): string {
  return `receipt-${transactionId}`;
}

/** Starts the receipt workflow unless one is running or already completed for this transaction. `eager`
 *  asks the server to hand the first workflow task straight to a worker sharing the client's connection. */
export async function startReceiptWorkflow(
  client: Client,
  taskQueue: string,
  receipt: ReceiptStart,
  eager = false,
): Promise<'started' | 'started-eagerly' | 'already-started'> {
  try {
    const handle = await client.workflow.start(RECEIPT_WORKFLOW_TYPE, {
      requestEagerStart: eager || undefined,
      taskQueue,
      workflowId: receiptWorkflowId(receipt.transactionId),
      args: [{ transactionId: receipt.transactionId, shape: 'one-task' } satisfies ReceiptWorkflowInput],
      // A running execution absorbs a second start; a completed one is never redone, a failed one may be.
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      typedSearchAttributes: [
        { key: TransactionIdKey, value: receipt.transactionId },
        { key: TransactionIdsKey, value: [String(receipt.transactionId)] },
        { key: ReceiverIdKey, value: receipt.receiverId },
        ...(receipt.senderId === null ? [] : [{ key: SenderIdKey, value: receipt.senderId }]),
      ],
      memo: { amount: receipt.amount, kind: receipt.kind },
    });
    return handle.eagerlyStarted ? 'started-eagerly' : 'started';
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'already-started';
    throw error;
  }
}

export const RECEIPT_BATCH_WORKFLOW_TYPE = 'receiptBatchWorkflow';

export interface ReceiptBatchStart {
  batchId: number;
  senderId: number | null;
  /** Every receipt of the batch (not only those claimed): the operator's search finds it by any of them. */
  transactionIds: number[];
}

export function receiptBatchWorkflowId(batchId: number): string {
  return `receipt-batch-${batchId}`;
}

/** Starts the workflow of a batch's receipts, with the same id policies as a single receipt's. */
export async function startReceiptBatchWorkflow(
  client: Client,
  taskQueue: string,
  batch: ReceiptBatchStart,
  eager = false,
): Promise<'started' | 'started-eagerly' | 'already-started'> {
  try {
    const handle = await client.workflow.start(RECEIPT_BATCH_WORKFLOW_TYPE, {
      requestEagerStart: eager || undefined,
      taskQueue,
      workflowId: receiptBatchWorkflowId(batch.batchId),
      args: [{ batchId: batch.batchId } satisfies ReceiptBatchWorkflowInput],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      typedSearchAttributes: [
        { key: TransactionIdsKey, value: batch.transactionIds.map(String) },
        ...(batch.senderId === null ? [] : [{ key: SenderIdKey, value: batch.senderId }]),
      ],
      memo: { kind: 'batch', receipts: batch.transactionIds.length },
    });
    return handle.eagerlyStarted ? 'started-eagerly' : 'started';
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'already-started';
    throw error;
  }
}
