// Deliberately incompatible versions of every workflow with recorded histories: receiptWorkflow (it skips
// loading the document), receiptBatchWorkflow (it prints the batch with another activity), statementWorkflow
// and monthlyStatementsWorkflow (statements.ts). Replaying the recorded histories against them must fail,
// which shows the replay test would catch such a change.
import { proxyActivities } from '@temporalio/workflow';
import type { ReceiptActivities, StoredReceipt } from '../../../src/activities/index.js';
import type { ReceiptDocument } from '../../../src/activities/receipt-document.js';
import type { ReceiptBatchWorkflowInput, ReceiptWorkflowInput } from '../../../src/workflows/types.js';

export { monthlyStatementsWorkflow, statementWorkflow } from './statements.js';

const { renderAndStoreReceipt, printReceiptAlone } = proxyActivities<ReceiptActivities>({
  startToCloseTimeout: '1m',
});

export async function receiptWorkflow(input: ReceiptWorkflowInput): Promise<StoredReceipt> {
  return await renderAndStoreReceipt({ transactionId: input.transactionId } as ReceiptDocument);
}

export async function receiptBatchWorkflow(input: ReceiptBatchWorkflowInput): Promise<StoredReceipt> {
  return await printReceiptAlone(input.batchId);
}
