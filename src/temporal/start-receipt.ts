// Starting a receipt workflow, the one way both the API (right after commit) and the dispatcher do it.
// The workflow id is the business id, so two starts of one receipt collapse into one execution.
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { ReceiptWorkflowInput } from '../workflows/types.js';
import { ReceiverIdKey, SenderIdKey, TransactionIdKey } from './search-attributes.js';

export const RECEIPT_WORKFLOW_TYPE = 'receiptWorkflow';

export interface ReceiptStart {
  transactionId: number;
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
        { key: ReceiverIdKey, value: receipt.receiverId },
        ...(receipt.senderId === null ? [] : [{ key: SenderIdKey, value: receipt.senderId }]),
      ],
      memo: { amount: receipt.amount, kind: receipt.senderId === null ? 'deposit' : 'transfer' },
    });
    return handle.eagerlyStarted ? 'started-eagerly' : 'started';
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'already-started';
    throw error;
  }
}
