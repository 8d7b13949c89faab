// What the receipt workflow takes: owned by the workflow side, imported by those who start it
// (src/temporal/start-receipt.ts). Deterministic code only here: types, no imports from Node or the SDK.
export interface ReceiptWorkflowInput {
  transactionId: number;
}
