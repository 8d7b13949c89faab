// The workflow bundle's entry point (workflowsPath): every workflow type the receipt worker serves.
export { receiptWorkflow } from './receipt.js';
export { receiptBatchWorkflow } from './receipt-batch.js';
