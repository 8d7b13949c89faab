// What the receipt workflow takes: owned by the workflow side, imported by those who start it
// (src/temporal/start-receipt.ts). Deterministic code only here: types, no imports from Node or the SDK.
export interface ReceiptWorkflowInput {
  transactionId: number;
  /** How the workflow runs, fixed by whoever starts it and kept in the history's first event, so replay takes
   *  the same branch. 'one-task' (every start since 2026-11-27): print in one workflow task. Absent in older
   *  histories, which tell their shape by a patch marker (see receipt.ts). */
  shape?: 'one-task';
}
