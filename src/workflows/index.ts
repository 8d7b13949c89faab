// The workflow bundle's entry point (workflowsPath): every workflow type the receipt worker serves.
export { monthlyStatementsWorkflow } from './monthly-statements.js';
export { receiptWorkflow } from './receipt.js';
export { receiptBatchWorkflow } from './receipt-batch.js';
export { statementWorkflow } from './statement.js';
